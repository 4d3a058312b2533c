/**
 * Internal: creating the key material and files of one party or of the gateway, in a folder that does
 * not exist yet. Shared by `initExchange` and `issueParty`.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { partyUri, type Role } from '../identity.js';
import { generateEncryptionKey, generateSigningKey, type EncryptionAlg, type EncryptionCurve, type SigningAlg } from '../jose-keys.js';
import { issueCertificate, type CertificateAuthority } from '../pki.js';
import type { RegistryKey, RegistryParty } from '../registry.js';
import { FILES, GATEWAY_ID, GATEWAY_NAME, PRIVATE_FILE, PUBLIC_FILE, keyValidFrom, makePrivateDir, writeJson, writeNewFile } from './layout.js';

export interface PartySpec {
  id: string;
  name: string;
}

export interface KeyChoices {
  signingAlg: SigningAlg;
  encryptionAlg: EncryptionAlg;
  encryptionCurve?: EncryptionCurve;
  certValidDays: number;
}

export interface PartyContext extends KeyChoices {
  ca: CertificateAuthority;
  trustDomain: string;
  gatewayAddress: string;
  logPublicKeyPem: string;
  now: Date;
}

/** Creates `<dir>` and a party's files in it; returns the party's registry entry. */
export function createPartyFiles(dir: string, ctx: PartyContext, role: Exclude<Role, 'gateway'>, spec: PartySpec): RegistryParty {
  const uri = partyUri(ctx.trustDomain, role, spec.id);
  const validFrom = keyValidFrom(ctx.now);
  const cert = issueCertificate(ctx.ca, { commonName: spec.id, uri, usage: 'client', validDays: ctx.certValidDays });
  const signing = generateSigningKey(ctx.signingAlg);
  const keys: RegistryKey[] = [{ jwk: signing.publicJwk, validFrom }];

  makePrivateDir(dir);
  writeNewFile(join(dir, FILES.tlsCert), cert.certPem, PUBLIC_FILE);
  writeNewFile(join(dir, FILES.tlsKey), cert.keyPem, PRIVATE_FILE);
  writeNewFile(join(dir, FILES.caCert), ctx.ca.certPem, PUBLIC_FILE);
  writeJson(join(dir, FILES.signing), signing.privateJwk, PRIVATE_FILE);
  if (role === 'insurer') {
    const enc = generateEncryptionKey(ctx.encryptionAlg, ctx.encryptionAlg === 'RSA-OAEP-256' ? undefined : ctx.encryptionCurve);
    writeJson(join(dir, FILES.encryption), enc.privateJwk, PRIVATE_FILE);
    keys.push({ jwk: enc.publicJwk, validFrom });
  }
  writeNewFile(join(dir, FILES.logPub), ctx.logPublicKeyPem, PUBLIC_FILE);
  writeJson(join(dir, FILES.partyJson), {
    id: spec.id,
    role,
    name: spec.name,
    uri,
    trustDomain: ctx.trustDomain,
    gateway: ctx.gatewayAddress,
  });
  return { id: spec.id, role, name: spec.name, uri, keys };
}

export interface GatewayContext extends KeyChoices {
  ca: CertificateAuthority;
  trustDomain: string;
  gatewayAddress: string;
  listen: string;
  now: Date;
}

/** Creates `<dir>` and the gateway's files; returns its registry entry and its log public key. */
export function createGatewayFiles(dir: string, ctx: GatewayContext): { party: RegistryParty; logPublicKeyPem: string } {
  const uri = partyUri(ctx.trustDomain, 'gateway', GATEWAY_ID);
  const cert = issueCertificate(ctx.ca, {
    commonName: 'hdx-gateway',
    uri,
    ...gatewayNames(ctx.gatewayAddress),
    usage: 'server',
    validDays: ctx.certValidDays,
  });
  const signing = generateSigningKey(ctx.signingAlg);
  const log = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });

  makePrivateDir(dir);
  writeNewFile(join(dir, FILES.tlsCert), cert.certPem, PUBLIC_FILE);
  writeNewFile(join(dir, FILES.tlsKey), cert.keyPem, PRIVATE_FILE);
  writeNewFile(join(dir, FILES.caCert), ctx.ca.certPem, PUBLIC_FILE);
  writeJson(join(dir, FILES.signing), signing.privateJwk, PRIVATE_FILE);
  writeNewFile(join(dir, FILES.logKey), log.privateKey, PRIVATE_FILE);
  writeNewFile(join(dir, FILES.masterKey), `${randomBytes(32).toString('base64')}\n`, PRIVATE_FILE);
  writeJson(join(dir, FILES.gatewayJson), {
    trustDomain: ctx.trustDomain,
    uri,
    listen: ctx.listen,
    address: ctx.gatewayAddress,
  });
  return {
    party: {
      id: GATEWAY_ID,
      role: 'gateway',
      name: GATEWAY_NAME,
      uri,
      keys: [{ jwk: signing.publicJwk, validFrom: keyValidFrom(ctx.now) }],
    },
    logPublicKeyPem: log.publicKey,
  };
}

/**
 * The gateway certificate's names: localhost and the loopback addresses (for local tools), and the host
 * of every address the parties dial (`gatewayAddress`, comma-separated for replicas), as an IP address or
 * a DNS name — else TLS refuses that address.
 */
export function gatewayNames(gatewayAddress: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = new Set(['localhost']);
  const ipAddresses = new Set(['127.0.0.1', '::1']);
  for (const address of gatewayAddress.split(',').map((entry) => entry.trim())) {
    const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) ipAddresses.add(host);
    else if (host.length > 0) dnsNames.add(host.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

/** The SPKI PEM of an Ed25519 private key PEM. */
export function publicPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}
