/**
 * Loaders for a party's folder and the gateway's folder: what every adapter and the gateway call at start.
 * Files are checked as untrusted (they are edited by operators and copied between machines); a problem
 * is an `InvalidExchange` naming the file, with the underlying error as `cause`.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { JWK } from 'jose';
import { InvalidExchange } from '../errors.js';
import { isPartyId, isRole, isTrustDomain, partyUri, parsePartyUriOf, type Role } from '../identity.js';
import { assertPrivateJwk, isEncryptionAlg, isSigningAlg } from '../jose-keys.js';
import { objectWith, stringAt, type Fail } from '../json-guard.js';
import { FILES, readBytes, readJsonFile, readText } from './layout.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface PartyInfo {
  id: string;
  role: Role;
  name: string;
  uri: string;
  trustDomain: string;
}

export interface PartyIdentity {
  party: PartyInfo;
  /** The gateway's address, `host:port`. */
  gateway: string;
  tls: TlsFiles;
  /** Private signing JWK (ES256 or EdDSA). */
  signingKey: JWK;
  /** Private encryption JWK (insurers). */
  encryptionKey?: JWK;
  /** Encryption keys replaced by rotation (`encryption.jwk.<kid>.old`): payloads sealed before still open. */
  previousEncryptionKeys: JWK[];
  /** The gateway's audit-log public key (Ed25519 SPKI PEM). */
  logPublicKeyPem?: string;
}

export interface GatewayIdentity {
  trustDomain: string;
  uri: string;
  /** Where the gateway listens, `host:port`. */
  listen: string;
  /** The address parties dial, `host:port`. */
  address?: string;
  tls: TlsFiles;
  /** Private ES256/EdDSA JWK for envelopes and receipts. */
  signingKey: JWK;
  /** Ed25519 PKCS#8 PEM: the audit-log checkpoint key. */
  logPrivateKeyPem: string;
  /** Ed25519 SPKI PEM. */
  logPublicKeyPem: string;
  /** 32 bytes: the HKDF master secret. */
  masterSecret: Buffer;
  /** `<exchange>/registry.json`, beside the gateway folder. */
  registryPath: string;
}

const MASTER_SECRET_BYTES = 32;

export function loadPartyIdentity(partyDir: string): PartyIdentity {
  if (typeof partyDir !== 'string' || partyDir.length === 0) throw new TypeError('partyDir must be a path');
  const dir = resolve(partyDir);
  const fail = failFor('party.json');
  const json = objectWith(readJsonFile(join(dir, FILES.partyJson), 'party.json'), 'party.json', ['id', 'role', 'name', 'uri', 'trustDomain', 'gateway'], fail);
  const { id, role, trustDomain } = json;
  if (!isPartyId(id)) throw fail('party.json id is invalid');
  if (!isRole(role) || role === 'gateway') throw fail('party.json role is invalid');
  if (!isTrustDomain(trustDomain)) throw fail('party.json trustDomain is invalid');
  const name = stringAt(json['name'], 'party.json name', fail, 200);
  const uri = stringAt(json['uri'], 'party.json uri', fail);
  if (uri !== partyUri(trustDomain, role, id)) throw fail('party.json uri does not match trust domain, role and id');
  const gateway = stringAt(json['gateway'], 'party.json gateway', fail, 300);

  const encryptionPath = join(dir, FILES.encryption);
  const logPubPath = join(dir, FILES.logPub);
  return {
    party: { id, role, name, uri, trustDomain },
    gateway,
    tls: readTls(dir),
    signingKey: readSigningKey(join(dir, FILES.signing), FILES.signing),
    ...(existsSync(encryptionPath) && { encryptionKey: readEncryptionKey(encryptionPath, FILES.encryption) }),
    previousEncryptionKeys: readdirSync(dir)
      .filter((f) => f.startsWith(`${FILES.encryption}.`) && f.endsWith('.old'))
      .sort()
      .map((f) => readEncryptionKey(join(dir, f), 'an old encryption key')),
    ...(existsSync(logPubPath) && { logPublicKeyPem: readLogPublicKey(logPubPath) }),
  };
}

export function loadGatewayIdentity(gatewayDir: string): GatewayIdentity {
  if (typeof gatewayDir !== 'string' || gatewayDir.length === 0) throw new TypeError('gatewayDir must be a path');
  const dir = resolve(gatewayDir);
  const fail = failFor('gateway.json');
  const json = objectWith(readJsonFile(join(dir, FILES.gatewayJson), 'gateway.json'), 'gateway.json', ['trustDomain', 'uri', 'listen', 'address'], fail);
  const trustDomain = json['trustDomain'];
  if (!isTrustDomain(trustDomain)) throw fail('gateway.json trustDomain is invalid');
  const uri = stringAt(json['uri'], 'gateway.json uri', fail);
  try {
    parsePartyUriOf(uri, 'gateway', trustDomain);
  } catch (cause) {
    throw fail('gateway.json uri is not a gateway URI in its trust domain', cause);
  }
  const listen = stringAt(json['listen'], 'gateway.json listen', fail, 300);
  const address = json['address'] === undefined ? undefined : stringAt(json['address'], 'gateway.json address', fail, 300);

  const logPrivateKeyPem = readText(join(dir, FILES.logKey), 'log.key');
  let logPublicKeyPem: string;
  try {
    const key = createPrivateKey(logPrivateKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    logPublicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  } catch (cause) {
    throw new InvalidExchange('log.key is not an Ed25519 private key', { cause });
  }
  const masterSecret = Buffer.from(readText(join(dir, FILES.masterKey), 'master.key').trim(), 'base64');
  if (masterSecret.length !== MASTER_SECRET_BYTES) throw new InvalidExchange('master.key must hold 32 bytes in base64');

  return {
    trustDomain,
    uri,
    listen,
    ...(address !== undefined && { address }),
    tls: readTls(dir),
    signingKey: readSigningKey(join(dir, FILES.signing), FILES.signing),
    logPrivateKeyPem,
    logPublicKeyPem,
    masterSecret,
    registryPath: join(dirname(dir), FILES.registry),
  };
}

function readTls(dir: string): TlsFiles {
  return {
    cert: readBytes(join(dir, FILES.tlsCert), 'tls.crt'),
    key: readBytes(join(dir, FILES.tlsKey), 'tls.key'),
    ca: readBytes(join(dir, FILES.caCert), 'ca.crt'),
  };
}

function readSigningKey(path: string, what: string): JWK {
  const jwk = readPrivateJwk(path, what);
  if (!isSigningAlg(jwk.alg) || typeof jwk.kid !== 'string') throw new InvalidExchange(`${what} is not a signing key with alg and kid`);
  return jwk;
}

function readEncryptionKey(path: string, what: string): JWK {
  const jwk = readPrivateJwk(path, what);
  if (!isEncryptionAlg(jwk.alg) || typeof jwk.kid !== 'string') {
    throw new InvalidExchange(`${what} is not an encryption key with alg and kid`);
  }
  return jwk;
}

function readPrivateJwk(path: string, what: string): JWK {
  const json = readJsonFile(path, what);
  try {
    return assertPrivateJwk(json);
  } catch (cause) {
    throw new InvalidExchange(`${what} is not a private JWK`, { cause });
  }
}

function readLogPublicKey(path: string): string {
  const pem = readText(path, 'log.pub');
  try {
    if (createPublicKey(pem).asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  } catch (cause) {
    throw new InvalidExchange('log.pub is not an Ed25519 public key', { cause });
  }
  return pem;
}

function failFor(file: string): Fail {
  return (message, cause) => new InvalidExchange(message.startsWith(file) ? message : `${file}: ${message}`, cause === undefined ? undefined : { cause });
}
