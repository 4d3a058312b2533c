/**
 * Compact JWE (RFC 7516) for the fixed algorithms hdx seals with, over `node:crypto`:
 * key management `ECDH-ES+A256KW` (RFC 7518 §4.6: ephemeral-static ECDH on P-256 or X25519 (RFC 8037),
 * Concat KDF, AES-256 key wrap (RFC 3394)) or `RSA-OAEP-256` (§4.3), content encryption `A256GCM` (§5.3).
 *
 * Strict: five canonical base64url segments of the exact lengths these algorithms produce; a protected
 * header with only `alg`, `enc`, `kid`, `cty`, `typ`, `epk`, `apu`, `apv` (so no `zip`, no `crit`, no
 * embedded keys other than the ephemeral one); an `epk` of exactly the recipient's curve, public members
 * only, on the curve. Every failure after the header is one ERR_DECRYPT (no oracle on which step failed;
 * an RSA unwrap failure continues with a random key, RFC 7516 §11.5).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  constants,
  type KeyObject,
} from 'node:crypto';
import { VerificationError } from '../errors.js';
import { decodeBase64url, decodeJsonObject, encodeBase64url, isCanonicalBase64url } from './base64url.js';
import { keyFits } from './key-objects.js';

export type KeyManagementAlg = 'ECDH-ES+A256KW' | 'RSA-OAEP-256';
export type ContentEncryption = 'A256GCM';
const HEADER_MEMBERS = new Set(['alg', 'enc', 'kid', 'cty', 'typ', 'epk', 'apu', 'apv']);
const KEY_WRAP_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const CEK_BYTES = 32;
const WRAPPED_CEK_BYTES = CEK_BYTES + 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface JweHeader {
  alg: KeyManagementAlg;
  enc: ContentEncryption;
  kid?: string;
  cty?: string;
  typ?: string;
  epk?: Record<string, string>;
  apu?: string;
  apv?: string;
}

/** A compact JWE taken apart and checked for form; nothing decrypted yet. */
export interface DecodedJwe {
  header: JweHeader;
  /** The protected header as sent: the AAD of the content encryption. */
  protectedHeader: string;
  encryptedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function isKeyManagementAlg(value: unknown): value is KeyManagementAlg {
  return value === 'ECDH-ES+A256KW' || value === 'RSA-OAEP-256';
}

/** Encrypts `plaintext` to a recipient's public key. `header` gives alg, enc and the informational members. */
export function encryptCompact(
  plaintext: Uint8Array,
  recipient: KeyObject,
  header: { alg: KeyManagementAlg; enc: ContentEncryption; kid?: string; cty?: string },
): string {
  if (header.enc !== 'A256GCM') throw new TypeError('unsupported content encryption');
  if (recipient.type !== 'public') throw new TypeError('recipient key must be public');
  const cek = randomBytes(CEK_BYTES);
  let full: JweHeader;
  let encryptedKey: Buffer;
  if (header.alg === 'ECDH-ES+A256KW') {
    const curve = ecdhCurveOf(recipient);
    if (!curve) throw new TypeError('recipient key does not fit ECDH-ES+A256KW');
    const ephemeral =
      curve === 'P-256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('x25519');
    const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
    const kek = concatKdf(z, 256, header.alg, Buffer.alloc(0), Buffer.alloc(0));
    const { kty, crv, x, y } = ephemeral.publicKey.export({ format: 'jwk' });
    full = { ...header, epk: (curve === 'P-256' ? { kty, crv, x, y } : { kty, crv, x }) as Record<string, string> };
    encryptedKey = aesKeyWrap(kek, cek);
  } else if (header.alg === 'RSA-OAEP-256') {
    if (!keyFits(recipient, 'RSA')) throw new TypeError('recipient key does not fit RSA-OAEP-256');
    full = { ...header };
    encryptedKey = publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  } else {
    throw new TypeError('unsupported key management algorithm');
  }
  const protectedHeader = encodeBase64url(JSON.stringify(full));
  const iv = randomBytes(IV_BYTES);
  const { ciphertext, tag } = a256gcmEncrypt(cek, iv, Buffer.from(protectedHeader, 'ascii'), plaintext);
  return [protectedHeader, b64(encryptedKey), b64(iv), b64(ciphertext), b64(tag)].join('.');
}

/** Takes a compact JWE apart; throws `VerificationError` ERR_MALFORMED or ERR_ALG. */
export function decodeCompactJwe(jwe: unknown, maxLength: number): DecodedJwe {
  const [h, k, i, c, t] = partsOf(jwe, maxLength);
  const header = checkedHeader(h);
  const encryptedKey = decodeBase64url(k, 'JWE encrypted key');
  const iv = decodeBase64url(i, 'JWE IV');
  const ciphertext = decodeBase64url(c, 'JWE ciphertext');
  const tag = decodeBase64url(t, 'JWE tag');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new VerificationError('ERR_MALFORMED', 'JWE IV or tag has the wrong length');
  if (header.alg === 'ECDH-ES+A256KW' && encryptedKey.length !== WRAPPED_CEK_BYTES) {
    throw new VerificationError('ERR_MALFORMED', 'JWE encrypted key has the wrong length');
  }
  return { header, protectedHeader: h, encryptedKey, iv, ciphertext, tag };
}

/**
 * The protected header of a compact JWE, checked as `decodeCompactJwe` checks it, without decoding the
 * other parts (the ciphertext is most of the text): for reading the `kid` before choosing a key.
 */
export function decodeJweHeader(jwe: unknown, maxLength: number): JweHeader {
  return checkedHeader(partsOf(jwe, maxLength)[0]);
}

function partsOf(jwe: unknown, maxLength: number): [string, string, string, string, string] {
  if (typeof jwe !== 'string' || jwe.length > maxLength) throw new VerificationError('ERR_MALFORMED', 'not a compact JWE');
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new VerificationError('ERR_MALFORMED', 'not a compact JWE');
  return parts as [string, string, string, string, string];
}

function checkedHeader(h: string): JweHeader {
  const raw = decodeJsonObject(h, 'JWE header');
  if (!isKeyManagementAlg(raw['alg']) || raw['enc'] !== 'A256GCM') {
    throw new VerificationError('ERR_ALG', 'JWE algorithm is not allowed');
  }
  for (const member of Object.keys(raw)) {
    if (!HEADER_MEMBERS.has(member)) throw new VerificationError('ERR_MALFORMED', 'JWE header has a member that is not allowed');
  }
  for (const member of ['kid', 'cty', 'typ'] as const) {
    if (raw[member] !== undefined && typeof raw[member] !== 'string') {
      throw new VerificationError('ERR_MALFORMED', 'JWE header member is not a string');
    }
  }
  for (const member of ['apu', 'apv'] as const) {
    const v = raw[member];
    if (v !== undefined && (typeof v !== 'string' || !isCanonicalBase64url(v))) {
      throw new VerificationError('ERR_MALFORMED', 'JWE header member is not base64url');
    }
  }
  const header = raw as unknown as JweHeader;
  if (header.alg === 'ECDH-ES+A256KW') checkEpkForm(raw['epk']);
  else if (raw['epk'] !== undefined || raw['apu'] !== undefined || raw['apv'] !== undefined) {
    throw new VerificationError('ERR_MALFORMED', 'JWE header has a member that is not allowed');
  }
  return header;
}

/** Decrypts a decoded JWE with one's private key. Throws `VerificationError` ERR_ALG (key type) or ERR_DECRYPT. */
export function decryptCompact(jwe: DecodedJwe, key: KeyObject): Buffer {
  if (key.type !== 'private') throw new TypeError('decryption key must be private');
  const cek = contentKeyOf(jwe, key);
  try {
    return a256gcmDecrypt(cek, jwe.iv, Buffer.from(jwe.protectedHeader, 'ascii'), jwe.ciphertext, jwe.tag);
  } catch (cause) {
    throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt', { cause });
  }
}

function contentKeyOf(jwe: DecodedJwe, key: KeyObject): Buffer {
  const { header } = jwe;
  if (header.alg === 'RSA-OAEP-256') {
    if (!keyFits(key, 'RSA')) throw new VerificationError('ERR_ALG', 'JWE algorithm does not fit the key');
    try {
      const cek = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, jwe.encryptedKey);
      if (cek.length === CEK_BYTES) return cek;
    } catch {
      // fall through: a random key makes the tag check fail, with no separate error to time
    }
    return randomBytes(CEK_BYTES);
  }
  const curve = ecdhCurveOf(key);
  if (!curve) throw new VerificationError('ERR_ALG', 'JWE algorithm does not fit the key');
  const epk = ephemeralKeyOf(header.epk!, curve);
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey: key, publicKey: epk });
  } catch (cause) {
    throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt', { cause });
  }
  // X25519 with a small-order point gives the all-zero secret (RFC 7748 §6.1): refuse it.
  if (z.every((b) => b === 0)) throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt');
  const kek = concatKdf(z, 256, header.alg, fromB64(header.apu), fromB64(header.apv));
  try {
    return aesKeyUnwrap(kek, jwe.encryptedKey);
  } catch (cause) {
    throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt', { cause });
  }
}

/** The `epk` of an ECDH-ES header: EC P-256 {kty, crv, x, y} or OKP X25519 {kty, crv, x}, nothing more. */
function checkEpkForm(epk: unknown): void {
  const bad = () => new VerificationError('ERR_MALFORMED', 'JWE ephemeral key is malformed');
  if (typeof epk !== 'object' || epk === null || Array.isArray(epk)) throw bad();
  const e = epk as Record<string, unknown>;
  const members = e['kty'] === 'EC' && e['crv'] === 'P-256' ? ['kty', 'crv', 'x', 'y'] : e['kty'] === 'OKP' && e['crv'] === 'X25519' ? ['kty', 'crv', 'x'] : null;
  if (!members || Object.keys(e).length !== members.length || !members.every((m) => typeof e[m] === 'string')) throw bad();
  for (const m of ['x', 'y']) {
    if (m in e && decodeBase64url(e[m] as string, 'JWE ephemeral key').length !== 32) throw bad();
  }
}

/** The sender's ephemeral public key, which must be on the recipient's curve (and on the curve at all). */
function ephemeralKeyOf(epk: Record<string, string>, curve: 'P-256' | 'X25519'): KeyObject {
  if ((curve === 'P-256') !== (epk['kty'] === 'EC')) throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt');
  try {
    return createPublicKey({ key: epk, format: 'jwk' });
  } catch (cause) {
    throw new VerificationError('ERR_DECRYPT', 'JWE does not decrypt', { cause });
  }
}

function ecdhCurveOf(key: KeyObject): 'P-256' | 'X25519' | undefined {
  return keyFits(key, 'P-256') ? 'P-256' : keyFits(key, 'X25519') ? 'X25519' : undefined;
}

/**
 * NIST SP 800-56A Concat KDF with SHA-256 as RFC 7518 §4.6.2 uses it: OtherInfo = AlgorithmID ‖
 * PartyUInfo ‖ PartyVInfo (each length-prefixed) ‖ SuppPubInfo (key length in bits). `alg` is the
 * `alg` header for key agreement with key wrapping, the `enc` value for direct key agreement.
 */
export function concatKdf(z: Uint8Array, keyBits: number, alg: string, apu: Uint8Array, apv: Uint8Array): Buffer {
  const algorithmId = Buffer.from(alg, 'ascii');
  const out: Buffer[] = [];
  for (let round = 1; out.length * 256 < keyBits; round++) {
    out.push(
      createHash('sha256')
        .update(uint32(round))
        .update(z)
        .update(uint32(algorithmId.length))
        .update(algorithmId)
        .update(uint32(apu.length))
        .update(apu)
        .update(uint32(apv.length))
        .update(apv)
        .update(uint32(keyBits))
        .digest(),
    );
  }
  return Buffer.concat(out).subarray(0, keyBits / 8);
}

/** A256GCM content encryption (RFC 7518 §5.3): AES-256-GCM, 96-bit IV, 128-bit tag, AAD = the protected header. */
export function a256gcmEncrypt(cek: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** A256GCM decryption; throws if the tag does not verify. */
export function a256gcmDecrypt(cek: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/** RFC 3394 AES key wrap with a 256-bit KEK (A256KW). */
export function aesKeyWrap(kek: Uint8Array, key: Uint8Array): Buffer {
  const cipher = createCipheriv('id-aes256-wrap', kek, KEY_WRAP_IV);
  return Buffer.concat([cipher.update(key), cipher.final()]);
}

/** RFC 3394 AES key unwrap; throws if the integrity check fails. */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap', kek, KEY_WRAP_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function fromB64(text: string | undefined): Buffer {
  return text === undefined ? Buffer.alloc(0) : Buffer.from(text, 'base64url');
}
