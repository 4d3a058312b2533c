/**
 * `issueParty`: adds a hospital, insurer or regulator to an existing exchange — certificate, keys, folder
 * and registry entry. The folder is made under a temporary name and renamed into place; the registry is
 * replaced atomically, under the registry lock.
 */
import { existsSync, renameSync, rmSync, mkdtempSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExchangeExists, InvalidExchange } from '../errors.js';
import { isRole, type Role } from '../identity.js';
import type { EncryptionAlg, EncryptionCurve, SigningAlg } from '../jose-keys.js';
import { loadRegistry, parseRegistry, type RegistryParty } from '../registry.js';
import { checkPartySpec, type ExchangePartySummary } from './init.js';
import {
  CERT_VALID_DAYS,
  DEFAULT_GATEWAY_ADDRESS,
  FILES,
  GATEWAY_ID,
  PRIVATE_DIR,
  PUBLIC_FILE,
  paths,
  readJsonFile,
  readText,
  replaceFile,
  withRegistryLock,
} from './layout.js';
import { createPartyFiles, publicPemOf } from './materials.js';

export interface IssuePartyInput {
  id: string;
  role: Exclude<Role, 'gateway'>;
  name: string;
}

export interface IssuePartyOptions {
  signingAlg?: SigningAlg;
  /** For insurers; default `ECDH-ES+A256KW` on P-256. */
  encryptionAlg?: EncryptionAlg;
  encryptionCurve?: EncryptionCurve;
  certValidDays?: number;
}

export async function issueParty(dir: string, party: IssuePartyInput, options: IssuePartyOptions = {}): Promise<ExchangePartySummary> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a path');
  if (!isRole(party?.role) || (party.role as Role) === 'gateway') throw new TypeError('role must be hospital, insurer or regulator');
  checkPartySpec(party, new Set([GATEWAY_ID]));
  const root = resolve(dir);

  return withRegistryLock(root, () => {
    const registry = loadRegistry(paths.registry(root));
    const partyDir = paths.partyDir(root, party.id);
    if (registry.parties.some((p) => p.id === party.id) || existsSync(partyDir)) {
      throw new ExchangeExists('a party with that id already exists');
    }
    const ca = {
      certPem: readText(join(paths.caDir(root), FILES.caCert), 'ca/ca.crt'),
      keyPem: readText(join(paths.caDir(root), FILES.caKey), 'ca/ca.key'),
    };
    const gatewayAddress = gatewayAddressOf(root);
    const logPublicKeyPem = publicPemOf(readText(join(paths.gatewayDir(root), FILES.logKey), 'gateway/log.key'));

    const tmp = mkdtempSync(join(paths.partiesDir(root), `.${party.id}.issue-`));
    let entry: RegistryParty;
    try {
      chmodSync(tmp, PRIVATE_DIR);
      const staged = join(tmp, party.id);
      entry = createPartyFiles(
        staged,
        {
          ca,
          trustDomain: registry.trustDomain,
          gatewayAddress,
          logPublicKeyPem,
          now: new Date(),
          signingAlg: options.signingAlg ?? 'ES256',
          encryptionAlg: options.encryptionAlg ?? 'ECDH-ES+A256KW',
          ...(options.encryptionCurve !== undefined && { encryptionCurve: options.encryptionCurve }),
          certValidDays: options.certValidDays ?? CERT_VALID_DAYS,
        },
        party.role,
        party,
      );
      const next = parseRegistry({ ...registry, parties: [...registry.parties, entry] });
      renameSync(staged, partyDir);
      try {
        replaceFile(paths.registry(root), `${JSON.stringify(next, null, 2)}\n`, PUBLIC_FILE);
      } catch (error) {
        rmSync(partyDir, { recursive: true, force: true });
        throw error;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return { id: entry.id, role: entry.role, name: entry.name, uri: entry.uri, dir: partyDir };
  });
}

function gatewayAddressOf(root: string): string {
  const path = join(paths.gatewayDir(root), FILES.gatewayJson);
  if (!existsSync(path)) return DEFAULT_GATEWAY_ADDRESS;
  const json = readJsonFile(path, 'gateway/gateway.json') as { address?: unknown };
  if (json.address === undefined) return DEFAULT_GATEWAY_ADDRESS;
  if (typeof json.address !== 'string') throw new InvalidExchange('gateway/gateway.json has an invalid address');
  return json.address;
}
