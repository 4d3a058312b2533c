/**
 * C2SP signed-note keys (https://c2sp.org/signed-note), Ed25519 only (signature type 0x01):
 *
 *   key ID        = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian uint32
 *   verifier key  = <name>+<hex key ID>+base64(0x01 || public key)
 *   signer key    = PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte seed)
 *
 * The signer-key string is the golang.org/x/mod/sumdb/note encoding (not part of the C2SP spec), so
 * keys made with Go's `note.GenerateKey` work here and the other way round. Key strings come from
 * files, so parsing them throws `KeyMalformedError`; a bad name passed by code throws `TypeError`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { sha256 } from '../canonical.js';
import { KeyMalformedError } from './errors.js';
import { decodeBase64Strict, isBytes } from './encoding.js';

export const ED25519_SIGNATURE_TYPE = 0x01;
export const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
/** DER prefixes of an Ed25519 PKCS#8 private key (before the seed) and SPKI public key (before the key). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_ID_HEX = /^[0-9a-f]{8}$/;
/** Unicode white space (as `\s` in a `u` regex) or a plus sign. */
const INVALID_NAME_CHAR = /[\s+]/u;

/** Signs note texts with one key. */
export interface NoteSigner {
  /** Key name, e.g. the log origin `hdx.local/audit/v1`. */
  readonly name: string;
  /** uint32 key ID. */
  readonly keyId: number;
  /** Signature over `message` (without the key ID prefix). */
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies note signatures made by one key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A key name is non-empty and has no Unicode spaces and no `+`. */
export function isValidKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !INVALID_NAME_CHAR.test(name) && !/\p{Surrogate}/u.test(name);
}

function checkName(name: unknown): asserts name is string {
  if (!isValidKeyName(name)) throw new TypeError('key name must be non-empty without spaces or "+"');
}

/** The Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || publicKey)[:4] as a big-endian uint32. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  checkName(name);
  if (!isBytes(publicKey) || publicKey.length !== ED25519_KEY_SIZE) throw new TypeError('publicKey must be 32 bytes');
  const digest = sha256(Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.of(ED25519_SIGNATURE_TYPE), publicKey]));
  return digest.readUInt32BE(0);
}

const hex32 = (id: number): string => id.toString(16).padStart(8, '0');

function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('key must be an Ed25519 key');
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The verifier key string for an Ed25519 public key (raw 32 bytes or a KeyObject, public or private). */
export function formatVerifierKey(name: string, publicKey: Uint8Array | KeyObject): string {
  checkName(name);
  const raw = isBytes(publicKey) ? Buffer.from(publicKey) : rawPublicKey(publicKey);
  const id = ed25519KeyId(name, raw);
  return `${name}+${hex32(id)}+${Buffer.concat([Buffer.of(ED25519_SIGNATURE_TYPE), raw]).toString('base64')}`;
}

/** An Ed25519 note signer for a private KeyObject (e.g. the gateway's audit-log key). */
export function createNoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  checkName(name);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private KeyObject');
  }
  const keyId = ed25519KeyId(name, rawPublicKey(privateKey));
  return Object.freeze({
    name,
    keyId,
    sign: (message: Uint8Array): Uint8Array => sign(null, message, privateKey),
  });
}

/** An Ed25519 note verifier for a public key (raw 32 bytes or a KeyObject). */
export function createNoteVerifier(name: string, publicKey: Uint8Array | KeyObject): NoteVerifier {
  checkName(name);
  const raw = isBytes(publicKey) ? Buffer.from(publicKey) : rawPublicKey(publicKey);
  const keyId = ed25519KeyId(name, raw);
  const key = isBytes(publicKey) ? publicKeyObject(raw) : publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  return Object.freeze({
    name,
    keyId,
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (!isBytes(signature) || signature.length !== ED25519_SIGNATURE_SIZE) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  });
}

/** Splits `<name>+<hex id>+<base64 key>` and checks the parts common to signer and verifier keys. */
function parseKeyParts(text: string, what: string): { name: string; keyId: number; raw: Buffer } {
  // The name and the ID contain no '+'; the base64 key material may.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new KeyMalformedError(`${what} is not <name>+<id>+<key>`);
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  if (!isValidKeyName(name)) throw new KeyMalformedError(`${what} has an invalid name`);
  if (!KEY_ID_HEX.test(idHex)) throw new KeyMalformedError(`${what} has an invalid key ID`);
  const data = decodeBase64Strict(b64);
  if (data === undefined) throw new KeyMalformedError(`${what} key material is not base64`);
  if (data.length !== 1 + ED25519_KEY_SIZE || data[0] !== ED25519_SIGNATURE_TYPE) {
    throw new KeyMalformedError(`${what} is not an Ed25519 key`);
  }
  return { name, keyId: Number.parseInt(idHex, 16), raw: data.subarray(1) };
}

/** Parses a verifier key string (`<name>+<hex id>+<base64(0x01 || key)>`). */
export function parseVerifierKey(vkey: string): NoteVerifier {
  if (typeof vkey !== 'string') throw new TypeError('vkey must be a string');
  const { name, keyId, raw } = parseKeyParts(vkey, 'verifier key');
  let verifier: NoteVerifier;
  try {
    verifier = createNoteVerifier(name, raw);
  } catch (cause) {
    throw new KeyMalformedError('verifier key is not a valid Ed25519 public key', { cause });
  }
  if (verifier.keyId !== keyId) throw new KeyMalformedError('verifier key ID does not match its key');
  return verifier;
}

/** Parses a signer key string (`PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`). Keep it secret. */
export function parseSignerKey(skey: string): NoteSigner {
  if (typeof skey !== 'string') throw new TypeError('skey must be a string');
  if (!skey.startsWith(SIGNER_KEY_PREFIX)) throw new KeyMalformedError('signer key does not start with PRIVATE+KEY+');
  const { name, keyId, raw } = parseKeyParts(skey.slice(SIGNER_KEY_PREFIX.length), 'signer key');
  let signer: NoteSigner;
  try {
    signer = createNoteSigner(name, privateKeyObject(raw));
  } catch (cause) {
    throw new KeyMalformedError('signer key is not a valid Ed25519 seed', { cause });
  }
  if (signer.keyId !== keyId) throw new KeyMalformedError('signer key ID does not match its key');
  return signer;
}

/** A fresh Ed25519 key as a signer-key string (secret) and the matching verifier-key string. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  checkName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const raw = rawPublicKey(privateKey);
  const id = hex32(ed25519KeyId(name, raw));
  const b64 = Buffer.concat([Buffer.of(ED25519_SIGNATURE_TYPE), seed]).toString('base64');
  return { signerKey: `${SIGNER_KEY_PREFIX}${name}+${id}+${b64}`, verifierKey: formatVerifierKey(name, raw) };
}
