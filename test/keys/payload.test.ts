import { CompactEncrypt, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidKey, VerificationError } from '../../keys/errors.js';
import {
  importDecryptionKey,
  importRecipientKey,
  openPayload,
  openPayloadWith,
  readPayloadHeader,
  sealPayload,
  sealPayloadWith,
} from '../../keys/formats/payload.js';
import { generateEncryptionKey, generateSigningKey, type JwkPair } from '../../keys/jose-keys.js';

const bundle = new TextEncoder().encode(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }));

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationError);
    return (e as VerificationError).code;
  }
  return undefined;
}

const cases = [
  ['P-256', () => generateEncryptionKey('ECDH-ES+A256KW', 'P-256'), 'ECDH-ES+A256KW'],
  ['X25519', () => generateEncryptionKey('ECDH-ES+A256KW', 'X25519'), 'ECDH-ES+A256KW'],
  ['RSA-OAEP-256', () => generateEncryptionKey('RSA-OAEP-256'), 'RSA-OAEP-256'],
] as const;

describe.each(cases)('payload JWE with %s', (_, make, alg) => {
  let key: JwkPair;
  let other: JwkPair;
  beforeAll(() => {
    key = make();
    other = make();
  });

  it('round-trips, with alg, enc, kid and cty in the protected header', async () => {
    const jwe = await sealPayload(bundle, key.publicJwk);
    expect(readPayloadHeader(jwe)).toMatchObject({ alg, enc: 'A256GCM', kid: key.publicJwk.kid, cty: 'application/fhir+json' });
    expect(Buffer.from(await openPayload(jwe, key.privateJwk))).toEqual(Buffer.from(bundle));
    // pre-imported keys, as a worker would use them
    const recipient = await importRecipientKey(key.publicJwk);
    const jwe2 = await sealPayloadWith(bundle, recipient);
    const decryption = await importDecryptionKey(key.privateJwk);
    expect(Buffer.from(await openPayloadWith(jwe2, [await importDecryptionKey(other.privateJwk), decryption]))).toEqual(Buffer.from(bundle));
  });

  it('refuses a wrong key: another kid (ERR_KEY), or the right kid on another key (ERR_DECRYPT)', async () => {
    const jwe = await sealPayload(bundle, key.publicJwk);
    expect(await code(openPayload(jwe, other.privateJwk))).toBe('ERR_KEY');
    expect(await code(openPayload(jwe, { ...other.privateJwk, kid: key.privateJwk.kid }))).toBe('ERR_DECRYPT');
  });

  it('picks the right key from several (current and pre-rotation)', async () => {
    const jwe = await sealPayload(bundle, key.publicJwk);
    expect(Buffer.from(await openPayload(jwe, [other.privateJwk, key.privateJwk]))).toEqual(Buffer.from(bundle));
  });

  it('detects a tampered ciphertext', async () => {
    const jwe = await sealPayload(bundle, key.publicJwk);
    const parts = jwe.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(await code(openPayload(parts.join('.'), key.privateJwk))).toBe('ERR_DECRYPT');
  });
});

describe('payload JWE refusals', () => {
  it('refuses a JWK with private members as recipient', async () => {
    const key = generateEncryptionKey('ECDH-ES+A256KW');
    await expect(sealPayload(bundle, key.privateJwk)).rejects.toThrow(InvalidKey);
  });

  it('refuses a signing key as recipient', async () => {
    const key = generateSigningKey('ES256');
    await expect(sealPayload(bundle, key.publicJwk)).rejects.toThrow(TypeError);
  });

  it('refuses other algorithms, malformed input and a missing kid', async () => {
    const key = generateEncryptionKey('ECDH-ES+A256KW');
    const pub = await importJWK(key.publicJwk, 'ECDH-ES');
    const direct = await new CompactEncrypt(bundle).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: key.publicJwk.kid! }).encrypt(pub);
    expect(await code(openPayload(direct, key.privateJwk))).toBe('ERR_ALG');
    const pub2 = await importJWK(key.publicJwk, 'ECDH-ES+A256KW');
    const cbc = await new CompactEncrypt(bundle).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A128CBC-HS256', kid: key.publicJwk.kid! }).encrypt(pub2);
    expect(await code(openPayload(cbc, key.privateJwk))).toBe('ERR_ALG');
    const noKid = await new CompactEncrypt(bundle).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' }).encrypt(pub2);
    expect(await code(openPayload(noKid, key.privateJwk))).toBe('ERR_MALFORMED');
    expect(await code(openPayload('a.b.c', key.privateJwk))).toBe('ERR_MALFORMED');
    expect(await code(openPayload('!!.b.c.d.e', key.privateJwk))).toBe('ERR_MALFORMED');
  });
});
