/**
 * `rotatePartyKey`: a new signing or encryption key for a party (or the gateway). The new public key is
 * added to the registry, valid from now (less a five-minute clock-skew allowance); every older key of that use is cut to end after a grace period
 * (default 7 days) so that tokens signed and payloads sealed just before the rotation still verify and
 * open. The private JWK file is replaced; the old one is kept beside it as `<name>.<kid>.old`.
 */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JWK } from 'jose';
import { InvalidExchange, NoValidKey, UnknownParty } from '../errors.js';
import {
  assertPrivateJwk,
  generateEncryptionKey,
  generateSigningKey,
  isEncryptionAlg,
  isSigningAlg,
  type EncryptionAlg,
  type EncryptionCurve,
  type JwkPair,
  type KeyUse,
  type SigningAlg,
} from '../jose-keys.js';
import { loadRegistry, parseRegistry, type RegistryKey } from '../registry.js';
import { DEFAULT_GRACE_MS, FILES, keyValidFrom, PRIVATE_FILE, PUBLIC_FILE, paths, readJsonFile, replaceFile, withRegistryLock, writeJson } from './layout.js';

export interface RotateKeyOptions {
  /** How long older keys stay valid; default 7 days. */
  gracePeriodMs?: number;
  /** Default: the algorithm (and curve) of the key being replaced. */
  alg?: SigningAlg | EncryptionAlg;
  crv?: EncryptionCurve;
  /** "Now"; for tests. */
  now?: Date;
}

export interface RotateKeyResult {
  partyId: string;
  use: KeyUse;
  kid: string;
  validFrom: string;
  /** The key the private JWK file held before. */
  previousKid: string;
  /** When the older keys stop being valid. */
  previousValidUntil: string;
}

const SAFE_KID = /^[A-Za-z0-9_-]{1,128}$/;

export async function rotatePartyKey(
  dir: string,
  partyId: string,
  use: KeyUse,
  options: RotateKeyOptions = {},
): Promise<RotateKeyResult> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a path');
  if (typeof partyId !== 'string') throw new TypeError('partyId must be a string');
  if (use !== 'sig' && use !== 'enc') throw new TypeError('use must be "sig" or "enc"');
  const grace = options.gracePeriodMs ?? DEFAULT_GRACE_MS;
  if (!Number.isSafeInteger(grace) || grace < 0) throw new TypeError('gracePeriodMs must be a non-negative integer');
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('now must be a valid Date');
  const root = resolve(dir);

  return withRegistryLock(root, () => {
    const registry = loadRegistry(paths.registry(root));
    const party = registry.parties.find((p) => p.id === partyId);
    if (!party) throw new UnknownParty('no such party in the registry');
    const folder = party.role === 'gateway' ? paths.gatewayDir(root) : paths.partyDir(root, party.id);
    const fileName = use === 'sig' ? FILES.signing : FILES.encryption;
    const file = join(folder, fileName);
    if (!existsSync(file)) throw new NoValidKey(`the party has no ${use} key to rotate`);
    let previous: JWK;
    try {
      previous = assertPrivateJwk(readJsonFile(file, fileName));
    } catch (cause) {
      throw new InvalidExchange(`${fileName} is not a private key`, { cause });
    }
    const previousKid = previous.kid;
    if (typeof previousKid !== 'string' || !SAFE_KID.test(previousKid)) {
      throw new InvalidExchange(`${fileName} has no usable kid`);
    }

    const pair = newKey(use, options, previous);
    const validFrom = keyValidFrom(now);
    const graceEndMs = now.getTime() + grace;
    const previousValidUntil = new Date(graceEndMs).toISOString();
    const keys: RegistryKey[] = party.keys.map((k) => {
      if (k.jwk.use !== use) return k;
      const from = k.validFrom === undefined ? -Infinity : Date.parse(k.validFrom);
      const until = k.validUntil === undefined ? Infinity : Date.parse(k.validUntil);
      return until > graceEndMs && from < graceEndMs ? { ...k, validUntil: previousValidUntil } : k;
    });
    keys.push({ jwk: pair.publicJwk, validFrom });
    const next = parseRegistry({
      ...registry,
      parties: registry.parties.map((p) => (p === party ? { ...p, keys } : p)),
    });

    const staged = `${file}.${process.pid}.new`;
    const kept = join(folder, `${fileName}.${previousKid}.old`);
    if (existsSync(kept)) throw new InvalidExchange('an old key file with that kid already exists');
    writeJson(staged, pair.privateJwk, PRIVATE_FILE);
    try {
      renameSync(file, kept);
      renameSync(staged, file);
      replaceFile(paths.registry(root), `${JSON.stringify(next, null, 2)}\n`, PUBLIC_FILE);
    } catch (error) {
      if (existsSync(staged)) unlinkSync(staged);
      if (!existsSync(file) && existsSync(kept)) renameSync(kept, file);
      throw error;
    }
    return { partyId: party.id, use, kid: pair.publicJwk.kid!, validFrom, previousKid, previousValidUntil };
  });
}

function newKey(use: KeyUse, options: RotateKeyOptions, previous: JWK): JwkPair {
  const alg = options.alg ?? previous.alg;
  if (use === 'sig') {
    if (!isSigningAlg(alg)) throw new TypeError('a signing key needs alg ES256 or EdDSA');
    return generateSigningKey(alg);
  }
  if (!isEncryptionAlg(alg)) throw new TypeError('an encryption key needs alg ECDH-ES+A256KW or RSA-OAEP-256');
  if (alg === 'RSA-OAEP-256') return generateEncryptionKey(alg);
  const crv = options.crv ?? (previous.crv === 'X25519' ? 'X25519' : 'P-256');
  return generateEncryptionKey(alg, crv);
}
