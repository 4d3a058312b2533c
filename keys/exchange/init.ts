/**
 * `initExchange`: a complete development exchange in a new folder — CA, gateway, default parties, and the
 * registry. Everything is written into a temporary sibling folder and renamed into place at the end, so
 * a failure leaves nothing half-made, and an existing exchange is never overwritten.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, mkdtempSync, chmodSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ExchangeExists } from '../errors.js';
import { isPartyId, isTrustDomain, type Role } from '../identity.js';
import { isEncryptionAlg, isSigningAlg, type EncryptionAlg, type EncryptionCurve, type SigningAlg } from '../jose-keys.js';
import { createCa } from '../pki.js';
import { parseRegistry, type Registry } from '../registry.js';
import {
  CA_VALID_DAYS,
  CERT_VALID_DAYS,
  DEFAULT_GATEWAY_ADDRESS,
  DEFAULT_TRUST_DOMAIN,
  FILES,
  GATEWAY_ID,
  PRIVATE_DIR,
  PRIVATE_FILE,
  PUBLIC_FILE,
  makePrivateDir,
  paths,
  writeJson,
  writeNewFile,
} from './layout.js';
import { createGatewayFiles, createPartyFiles, type PartySpec } from './materials.js';

export type { PartySpec };

export const DEFAULT_PARTIES: Readonly<Record<'hospitals' | 'insurers' | 'regulators', readonly PartySpec[]>> = Object.freeze({
  hospitals: [
    { id: 'nanshan-people', name: '深圳市南山区人民医院' },
    { id: 'szu-general', name: '深圳大学总医院' },
  ],
  insurers: [
    { id: 'taikang-online', name: '泰康在线' },
    { id: 'pingan-health', name: '平安健康' },
  ],
  regulators: [{ id: 'szdex', name: '深圳数据交易所监管组' }],
});

export interface InitExchangeOptions {
  /** Default `hdx.local`. */
  trustDomain?: string;
  /** Each list replaces the default parties of its role. */
  hospitals?: readonly PartySpec[];
  insurers?: readonly PartySpec[];
  regulators?: readonly PartySpec[];
  /** The address parties dial; default `localhost:7443`. */
  gatewayAddress?: string;
  /** The gateway's listen address; default `127.0.0.1:<port of gatewayAddress>`. */
  listen?: string;
  /** Signing keys of every party and the gateway; default ES256. */
  signingAlg?: SigningAlg;
  /** Insurers' encryption keys; default `ECDH-ES+A256KW` on P-256. */
  encryptionAlg?: EncryptionAlg;
  encryptionCurve?: EncryptionCurve;
  caValidDays?: number;
  certValidDays?: number;
}

export interface ExchangePartySummary {
  id: string;
  role: Role;
  name: string;
  uri: string;
  dir: string;
}

export interface ExchangeSummary {
  dir: string;
  trustDomain: string;
  registryPath: string;
  gateway: { uri: string; dir: string; address: string; listen: string };
  parties: ExchangePartySummary[];
}

const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

export async function initExchange(dir: string, options: InitExchangeOptions = {}): Promise<ExchangeSummary> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a path');
  const root = resolve(dir);
  const opts = checkOptions(options);
  refuseExisting(root);

  mkdirSync(dirname(root), { recursive: true });
  const tmp = mkdtempSync(join(dirname(root), `.${basename(root)}.init-`));
  try {
    chmodSync(tmp, PRIVATE_DIR);
    const now = new Date();
    const ca = createCa({ trustDomain: opts.trustDomain, validDays: opts.caValidDays });
    makePrivateDir(paths.caDir(tmp));
    writeNewFile(join(paths.caDir(tmp), FILES.caCert), ca.certPem, PUBLIC_FILE);
    writeNewFile(join(paths.caDir(tmp), FILES.caKey), ca.keyPem, PRIVATE_FILE);

    const keyChoices = {
      signingAlg: opts.signingAlg,
      encryptionAlg: opts.encryptionAlg,
      ...(opts.encryptionCurve !== undefined && { encryptionCurve: opts.encryptionCurve }),
      certValidDays: opts.certValidDays,
    };
    const gateway = createGatewayFiles(paths.gatewayDir(tmp), {
      ...keyChoices,
      ca,
      trustDomain: opts.trustDomain,
      gatewayAddress: opts.gatewayAddress,
      listen: opts.listen,
      now,
    });
    const registry: Registry = { trustDomain: opts.trustDomain, parties: [gateway.party] };
    makePrivateDir(paths.partiesDir(tmp));
    const ctx = { ...keyChoices, ca, trustDomain: opts.trustDomain, gatewayAddress: opts.gatewayAddress, logPublicKeyPem: gateway.logPublicKeyPem, now };
    for (const [role, specs] of opts.parties) {
      for (const spec of specs) registry.parties.push(createPartyFiles(paths.partyDir(tmp, spec.id), ctx, role, spec));
    }
    writeJson(paths.registry(tmp), parseRegistry(registry));

    try {
      renameSync(tmp, root);
    } catch (cause) {
      throw new ExchangeExists('an exchange or other files already exist there', { cause });
    }
    return {
      dir: root,
      trustDomain: opts.trustDomain,
      registryPath: paths.registry(root),
      gateway: { uri: gateway.party.uri, dir: paths.gatewayDir(root), address: opts.gatewayAddress, listen: opts.listen },
      parties: registry.parties
        .filter((p) => p.role !== 'gateway')
        .map((p) => ({ id: p.id, role: p.role, name: p.name, uri: p.uri, dir: paths.partyDir(root, p.id) })),
    };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

function refuseExisting(root: string): void {
  if (!existsSync(root)) return;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (cause) {
    throw new ExchangeExists('the path exists and is not an empty folder', { cause });
  }
  if (entries.length > 0) throw new ExchangeExists('the folder is not empty: refusing to overwrite it');
}

interface CheckedOptions {
  trustDomain: string;
  gatewayAddress: string;
  listen: string;
  signingAlg: SigningAlg;
  encryptionAlg: EncryptionAlg;
  encryptionCurve?: EncryptionCurve;
  caValidDays: number;
  certValidDays: number;
  parties: [Exclude<Role, 'gateway'>, readonly PartySpec[]][];
}

function checkOptions(o: InitExchangeOptions): CheckedOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const trustDomain = o.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!isTrustDomain(trustDomain)) throw new TypeError('invalid trust domain');
  // Several replicas' addresses, comma-separated, are dialled in order (proto/gateway-list.ts).
  const addresses = String(o.gatewayAddress ?? DEFAULT_GATEWAY_ADDRESS).split(',').map((entry) => withDefaultPort(entry.trim()));
  if (!addresses.every((entry) => ADDRESS.test(entry))) throw new TypeError('gatewayAddress must be host:port');
  const gatewayAddress = addresses.join(',');
  const listen = o.listen ?? `127.0.0.1:${addresses[0]!.slice(addresses[0]!.lastIndexOf(':') + 1)}`;
  if (!ADDRESS.test(listen)) throw new TypeError('listen must be host:port');
  const signingAlg = o.signingAlg ?? 'ES256';
  if (!isSigningAlg(signingAlg)) throw new TypeError('invalid signing algorithm');
  const encryptionAlg = o.encryptionAlg ?? 'ECDH-ES+A256KW';
  if (!isEncryptionAlg(encryptionAlg)) throw new TypeError('invalid encryption algorithm');
  if (o.encryptionCurve !== undefined && o.encryptionCurve !== 'P-256' && o.encryptionCurve !== 'X25519') {
    throw new TypeError('invalid encryption curve');
  }
  if (o.encryptionCurve !== undefined && encryptionAlg === 'RSA-OAEP-256') throw new TypeError('RSA-OAEP-256 takes no curve');
  const parties: CheckedOptions['parties'] = [
    ['hospital', o.hospitals ?? DEFAULT_PARTIES.hospitals],
    ['insurer', o.insurers ?? DEFAULT_PARTIES.insurers],
    ['regulator', o.regulators ?? DEFAULT_PARTIES.regulators],
  ];
  const ids = new Set<string>([GATEWAY_ID]);
  for (const [, specs] of parties) {
    if (!Array.isArray(specs)) throw new TypeError('party lists must be arrays');
    for (const spec of specs) checkPartySpec(spec, ids);
  }
  return {
    trustDomain,
    gatewayAddress,
    listen,
    signingAlg,
    encryptionAlg,
    ...(o.encryptionCurve !== undefined && { encryptionCurve: o.encryptionCurve }),
    caValidDays: o.caValidDays ?? CA_VALID_DAYS,
    certValidDays: o.certValidDays ?? CERT_VALID_DAYS,
    parties,
  };
}

/** `host` or `host:port` (an IPv6 address in brackets with a port); the port defaults to 7443. */
function withDefaultPort(address: string): string {
  if (typeof address !== 'string') throw new TypeError('gatewayAddress must be host or host:port');
  if (ADDRESS.test(address)) return address;
  const port = DEFAULT_GATEWAY_ADDRESS.slice(DEFAULT_GATEWAY_ADDRESS.lastIndexOf(':'));
  if (/^[A-Za-z0-9.-]+$/.test(address)) return `${address}${port}`;
  if (/^[0-9A-Fa-f:.]+$/.test(address) && address.includes(':')) return `[${address}]${port}`;
  throw new TypeError('gatewayAddress must be host or host:port');
}

/** Checks a party's id and name (caller input); `ids` collects ids to refuse duplicates. */
export function checkPartySpec(spec: PartySpec, ids: Set<string>): void {
  if (typeof spec !== 'object' || spec === null || !isPartyId(spec.id)) throw new TypeError('invalid party id');
  if (typeof spec.name !== 'string' || spec.name.trim().length === 0 || spec.name.length > 200) {
    throw new TypeError('party name must be a non-empty string of at most 200 characters');
  }
  if (ids.has(spec.id)) throw new TypeError('party ids must be unique (and not "gateway")');
  ids.add(spec.id);
}
