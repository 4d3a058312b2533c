/**
 * The native JOSE layer against the RFC vectors, against jose in both directions, and against forged
 * and tampered tokens. jose 6 is the reference implementation here: everything we make must open or
 * verify with it, and everything it makes (with our algorithms) must open or verify with ours.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../keys/errors.js';
import { generateEncryptionKey, generateSigningKey, type EncryptionCurve, type JwkPair } from '../../keys/jose-keys.js';
import {
  a256gcmDecrypt,
  a256gcmEncrypt,
  aesKeyUnwrap,
  aesKeyWrap,
  concatKdf,
  decodeCompactJwe,
  decodeCompactJws,
  decryptCompact,
  encryptCompact,
  isCanonicalBase64url,
  privateKeyOf,
  publicKeyOf,
  signCompact,
  verifySignature,
  type JwsAlg,
  type KeyManagementAlg,
} from '../../keys/jose-native/index.js';
import { conformancePath } from '../support/conformance.js';

const vectors = JSON.parse(readFileSync(conformancePath('jose', 'vectors.json'), 'utf8'));
const MAX = 1 << 20;
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
const bytes = (s: string) => Buffer.from(s, 'utf8');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    return e.code;
  }
  return 'no error';
}

const verifies = (jws: string, jwk: JWK) => verifySignature(decodeCompactJws(jws, MAX), publicKeyOf(jwk));
const open = (jwe: string, jwk: JWK) => decryptCompact(decodeCompactJwe(jwe, MAX), privateKeyOf(jwk));

describe('RFC vectors', () => {
  it('RFC 7515 A.3: the published ES256 signature verifies; one flipped bit does not', () => {
    const { jwk, jws } = vectors.rfc7515_a3_es256;
    expect(verifies(jws, jwk)).toBe(true);
    const sig = Buffer.from(jws.split('.')[2], 'base64url');
    sig[10]! ^= 1;
    expect(verifies(`${jws.split('.').slice(0, 2).join('.')}.${b64(sig)}`, jwk)).toBe(false);
  });

  it('RFC 8037 A.4: Ed25519 signing reproduces the published JWS byte for byte, and verifies', () => {
    const { jwk, jws, payload } = vectors.rfc8037_a4_ed25519;
    expect(signCompact({ alg: 'EdDSA' }, payload, privateKeyOf(jwk))).toBe(jws);
    expect(verifies(jws, jwk)).toBe(true);
  });

  it('RFC 7518 C: ECDH-ES on P-256 gives the published Z and the Concat KDF the published key', () => {
    const v = vectors.rfc7518_c_ecdh_es;
    const z = diffieHellman({ privateKey: privateKeyOf(v.alice_ephemeral), publicKey: publicKeyOf(v.bob) });
    expect([...z]).toEqual(v.z);
    expect(diffieHellman({ privateKey: privateKeyOf(v.bob), publicKey: publicKeyOf(v.alice_ephemeral) })).toEqual(z);
    expect(b64(concatKdf(z, 128, v.enc, bytes('Alice'), bytes('Bob')))).toBe(v.derived_key);
  });

  it('RFC 8037 A.6: X25519 gives the published shared secret', () => {
    const v = vectors.rfc8037_a6_x25519;
    const raw = (hex: string, x: string) =>
      createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64(Buffer.from(hex, 'hex')), x }, format: 'jwk' });
    const ephemeral = raw(v.ephemeral_private_hex, v.ephemeral_public_x);
    expect(createPublicKey(ephemeral).export({ format: 'jwk' }).x).toBe(v.ephemeral_public_x);
    const bob = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: v.bob_public_x }, format: 'jwk' });
    expect(diffieHellman({ privateKey: ephemeral, publicKey: bob }).toString('hex')).toBe(v.z_hex);
    const bobPrivate = raw(v.bob_private_hex, v.bob_public_x);
    expect(diffieHellman({ privateKey: bobPrivate, publicKey: createPublicKey(ephemeral) }).toString('hex')).toBe(v.z_hex);
  });

  it('RFC 3394 4.6: A256KW wraps and unwraps the published key; a changed byte fails the integrity check', () => {
    const v = vectors.rfc3394_4_6_a256kw;
    const kek = Buffer.from(v.kek_hex, 'hex');
    const wrapped = aesKeyWrap(kek, Buffer.from(v.key_hex, 'hex'));
    expect(wrapped.toString('hex').toUpperCase()).toBe(v.wrapped_hex);
    expect(aesKeyUnwrap(kek, wrapped).toString('hex').toUpperCase()).toBe(v.key_hex);
    wrapped[3]! ^= 1;
    expect(() => aesKeyUnwrap(kek, wrapped)).toThrow();
  });

  it('RFC 7516 A.1: A256GCM gives the published ciphertext and tag, and decrypts them', () => {
    const v = vectors.rfc7516_a1_a256gcm;
    const cek = Buffer.from(v.cek);
    const iv = Buffer.from(v.iv, 'base64url');
    const aad = Buffer.from(v.protected, 'ascii');
    const { ciphertext, tag } = a256gcmEncrypt(cek, iv, aad, bytes(v.plaintext));
    expect([b64(ciphertext), b64(tag)]).toEqual([v.ciphertext, v.tag]);
    expect(a256gcmDecrypt(cek, iv, aad, ciphertext, tag).toString('utf8')).toBe(v.plaintext);
    expect(() => a256gcmDecrypt(cek, iv, Buffer.from(`${v.protected}x`), ciphertext, tag)).toThrow();
  });
});

const signing: [JwsAlg, () => JwkPair][] = [
  ['ES256', () => generateSigningKey('ES256')],
  ['EdDSA', () => generateSigningKey('EdDSA')],
];

describe.each(signing)('JWS %s interoperates with jose', (alg, make) => {
  const key = make();
  const payload = bytes(JSON.stringify({ iss: 'a', aud: 'b', n: 1 }));

  it('jose verifies ours', async () => {
    const jws = signCompact({ alg, kid: key.publicJwk.kid!, typ: 'hdx-test+jwt' }, payload, privateKeyOf(key.privateJwk));
    const { payload: out, protectedHeader } = await compactVerify(jws, await importJWK(key.publicJwk, alg));
    expect(Buffer.from(out)).toEqual(payload);
    expect(protectedHeader).toEqual({ alg, kid: key.publicJwk.kid, typ: 'hdx-test+jwt' });
  });

  it('ours verifies jose’s, and not with another key', async () => {
    const jws = await new CompactSign(payload).setProtectedHeader({ alg, kid: 'k1', typ: 'hdx-test+jwt' }).sign(await importJWK(key.privateJwk, alg));
    expect(verifies(jws, key.publicJwk)).toBe(true);
    expect(decodeCompactJws(jws, MAX).payload).toEqual(payload);
    expect(verifies(jws, make().publicJwk)).toBe(false);
  });
});

const encryption: [string, KeyManagementAlg, EncryptionCurve | undefined][] = [
  ['ECDH-ES+A256KW P-256', 'ECDH-ES+A256KW', 'P-256'],
  ['ECDH-ES+A256KW X25519', 'ECDH-ES+A256KW', 'X25519'],
  ['RSA-OAEP-256', 'RSA-OAEP-256', undefined],
];

describe.each(encryption)('JWE %s interoperates with jose', (_, alg, crv) => {
  const key = generateEncryptionKey(alg, crv);
  const plaintext = bytes(JSON.stringify({ resourceType: 'Bundle', entry: Array.from({ length: 50 }, (_, i) => ({ i })) }));
  const header = { alg, enc: 'A256GCM' as const, kid: key.publicJwk.kid!, cty: 'application/fhir+json' };

  it('jose decrypts ours, with the header we sent', async () => {
    const jwe = encryptCompact(plaintext, publicKeyOf(key.publicJwk), header);
    const out = await compactDecrypt(jwe, await importJWK(key.privateJwk, alg));
    expect(Buffer.from(out.plaintext)).toEqual(plaintext);
    expect(out.protectedHeader).toMatchObject(header);
  });

  it('ours decrypts jose’s (with and without apu/apv)', async () => {
    const jwe = await new CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(await importJWK(key.publicJwk, alg));
    expect(open(jwe, key.privateJwk)).toEqual(plaintext);
    if (alg === 'ECDH-ES+A256KW') {
      const withParties = await new CompactEncrypt(plaintext)
        .setProtectedHeader(header)
        .setKeyManagementParameters({ apu: bytes('gateway'), apv: bytes('insurer') })
        .encrypt(await importJWK(key.publicJwk, alg));
      expect(decodeCompactJwe(withParties, MAX).header.apu).toBe(b64('gateway'));
      expect(open(withParties, key.privateJwk)).toEqual(plaintext);
    }
  });

  it('refuses a tampered header, key, IV, ciphertext or tag, and another key (ERR_DECRYPT)', () => {
    const jwe = encryptCompact(plaintext, publicKeyOf(key.publicJwk), header);
    const parts = jwe.split('.');
    const headerJson = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    const tamperedHeader = [b64(JSON.stringify({ ...headerJson, cty: 'text/plain' })), ...parts.slice(1)].join('.');
    expect(code(() => open(tamperedHeader, key.privateJwk))).toBe('ERR_DECRYPT');
    for (const at of [1, 2, 3, 4]) {
      const p = [...parts];
      const raw = Buffer.from(p[at]!, 'base64url');
      raw[raw.length >> 1]! ^= 1;
      p[at] = b64(raw);
      expect(code(() => open(p.join('.'), key.privateJwk))).toBe('ERR_DECRYPT');
    }
    expect(code(() => open(jwe, generateEncryptionKey(alg, crv).privateJwk))).toBe('ERR_DECRYPT');
  });
});

describe('strictness', () => {
  const es = generateSigningKey('ES256');
  const jws = signCompact({ alg: 'ES256', kid: 'k' }, '{"a":1}', privateKeyOf(es.privateJwk));
  const withHeader = (h: object) => `${b64(JSON.stringify(h))}.${jws.split('.')[1]}.${jws.split('.')[2]}`;

  it('accepts only canonical base64url', () => {
    expect(isCanonicalBase64url('QQ')).toBe(true);
    // Same bytes to Node's lenient decoder, not the same text: trailing bits, padding, stray characters.
    for (const text of ['QR', 'QQ==', 'Q Q', 'Q+', 'Q/', 'QQ\n', 'Q']) expect(isCanonicalBase64url(text)).toBe(false);
    for (const text of ['', 'QUI', 'QUJD', 'A'.repeat(30_000)]) expect(isCanonicalBase64url(text)).toBe(true);
    const long = 'A'.repeat(30_000);
    for (const text of ['QUJ', 'QUI=', 'Qé', 'QU\u0000I', `${long.slice(0, 15_000)}.${long.slice(15_001)}`, `${long}=`, `${long}A`]) {
      expect(isCanonicalBase64url(text)).toBe(false);
    }
    const [h, p, s] = jws.split('.') as [string, string, string];
    const last = s[s.length - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) | 1]!; // 86 characters: the last one has 4 unused bits
    const twin = `${h}.${p}.${s.slice(0, -1)}${sibling}`;
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    expect(code(() => decodeCompactJws(twin, MAX))).toBe('ERR_MALFORMED');
    expect(code(() => decodeCompactJws(`${jws}=`, MAX))).toBe('ERR_MALFORMED');
  });

  it('refuses alg none, HMAC and unknown algorithms before any key is involved', () => {
    for (const alg of ['none', 'HS256', 'RS256', 'ES384', 'es256', undefined]) {
      expect(code(() => decodeCompactJws(withHeader({ alg, kid: 'k' }), MAX))).toBe('ERR_ALG');
    }
    expect(code(() => decodeCompactJws(`${b64('{"alg":"none"}')}.${b64('{}')}.`, MAX))).toBe('ERR_ALG');
  });

  it('refuses crit, b64, embedded or referenced keys and any other header member', () => {
    for (const extra of [
      { crit: ['exp'], exp: 1 },
      { b64: false, crit: ['b64'] },
      { jwk: es.publicJwk },
      { jku: 'https://x.example/jwks' },
      { x5c: ['MII'] },
      { zip: 'DEF' },
      { nonce: 'n' },
    ]) {
      expect(code(() => decodeCompactJws(withHeader({ alg: 'ES256', kid: 'k', ...extra }), MAX))).toBe('ERR_MALFORMED');
    }
    expect(code(() => decodeCompactJws(withHeader({ alg: 'ES256', kid: 7 }), MAX))).toBe('ERR_MALFORMED');
    expect(code(() => decodeCompactJws(`${b64('[1]')}.e30.AA`, MAX))).toBe('ERR_MALFORMED');
    expect(code(() => decodeCompactJws(`${b64('{"alg":"ES256"')}.e30.AA`, MAX))).toBe('ERR_MALFORMED');
  });

  it('a signature never verifies under a key of another algorithm (ES256 header, Ed25519 key and back)', () => {
    const ed = generateSigningKey('EdDSA');
    const edJws = signCompact({ alg: 'EdDSA' }, 'x', privateKeyOf(ed.privateJwk));
    const relabelled = `${b64('{"alg":"ES256"}')}.${edJws.split('.').slice(1).join('.')}`;
    expect(verifySignature(decodeCompactJws(relabelled, MAX), publicKeyOf(ed.publicJwk))).toBe(false);
    expect(verifySignature(decodeCompactJws(edJws, MAX), publicKeyOf(es.publicJwk))).toBe(false);
    expect(() => signCompact({ alg: 'ES256' }, 'x', privateKeyOf(ed.privateJwk))).toThrow(TypeError);
  });

  it('a JWE header with zip, crit, a foreign member or an ill-formed epk is refused', async () => {
    const key = generateEncryptionKey('ECDH-ES+A256KW');
    const jwe = encryptCompact(bytes('x'), publicKeyOf(key.publicJwk), { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' });
    const parts = jwe.split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    const rehead = (h: object) => [b64(JSON.stringify(h)), ...parts.slice(1)].join('.');
    for (const h of [
      { ...header, zip: 'DEF' },
      { ...header, crit: ['x'], x: 1 },
      { ...header, jwk: key.publicJwk },
      { ...header, epk: { ...header.epk, d: key.privateJwk.d } },
      { ...header, epk: { ...header.epk, x: `${header.epk.x}AA` } },
      { ...header, epk: 'key' },
      { ...header, apu: 'not base64!' },
    ]) {
      expect(code(() => decodeCompactJwe(rehead(h), MAX))).toBe('ERR_MALFORMED');
    }
    expect(code(() => decodeCompactJwe(rehead({ ...header, alg: 'ECDH-ES' }), MAX))).toBe('ERR_ALG');
    expect(code(() => decodeCompactJwe(rehead({ ...header, enc: 'A128CBC-HS256' }), MAX))).toBe('ERR_ALG');
    expect(code(() => decodeCompactJwe(rehead({ ...header, alg: 'RSA1_5' }), MAX))).toBe('ERR_ALG');
  });

  it('an ephemeral key off the curve, on another curve, or of small order does not decrypt (invalid-curve attacks)', () => {
    const key = generateEncryptionKey('ECDH-ES+A256KW', 'P-256');
    const jwe = encryptCompact(bytes('x'), publicKeyOf(key.publicJwk), { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' });
    const parts = jwe.split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    const withEpk = (epk: object) => [b64(JSON.stringify({ ...header, epk })), ...parts.slice(1)].join('.');
    const y = Buffer.from(header.epk.y, 'base64url');
    y[31]! ^= 1;
    expect(code(() => open(withEpk({ ...header.epk, y: b64(y) }), key.privateJwk))).toBe('ERR_DECRYPT');
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
    expect(code(() => open(withEpk({ kty: 'OKP', crv: 'X25519', x: x25519.x }), key.privateJwk))).toBe('ERR_DECRYPT');

    const xKey = generateEncryptionKey('ECDH-ES+A256KW', 'X25519');
    const xJwe = encryptCompact(bytes('x'), publicKeyOf(xKey.publicJwk), { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' });
    const xParts = xJwe.split('.');
    const xHeader = JSON.parse(Buffer.from(xParts[0]!, 'base64url').toString());
    const smallOrder = { kty: 'OKP', crv: 'X25519', x: b64(Buffer.alloc(32)) };
    const forged = [b64(JSON.stringify({ ...xHeader, epk: smallOrder })), ...xParts.slice(1)].join('.');
    expect(code(() => open(forged, xKey.privateJwk))).toBe('ERR_DECRYPT');
  });

  it('a JWE key of the wrong kind for the algorithm is an algorithm refusal, not a decryption attempt', () => {
    const rsa = generateEncryptionKey('RSA-OAEP-256');
    const ec = generateEncryptionKey('ECDH-ES+A256KW');
    const jwe = encryptCompact(bytes('x'), publicKeyOf(rsa.publicJwk), { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k' });
    expect(code(() => open(jwe, ec.privateJwk))).toBe('ERR_ALG');
    expect(() => encryptCompact(bytes('x'), publicKeyOf(ec.publicJwk), { alg: 'RSA-OAEP-256', enc: 'A256GCM' })).toThrow(TypeError);
  });
});
