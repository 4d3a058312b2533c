import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidKey } from '../../keys/errors.js';
import {
  assertPrivateJwk,
  assertPublicJwk,
  generateEncryptionKey,
  generateSigningKey,
  hasPrivateMembers,
  jwkThumbprint,
  publicJwkOf,
} from '../../keys/jose-keys.js';

describe('JOSE keys', () => {
  it.each([
    ['ES256', () => generateSigningKey('ES256'), 'EC', 'sig'],
    ['EdDSA', () => generateSigningKey('EdDSA'), 'OKP', 'sig'],
    ['ECDH-ES+A256KW P-256', () => generateEncryptionKey('ECDH-ES+A256KW'), 'EC', 'enc'],
    ['ECDH-ES+A256KW X25519', () => generateEncryptionKey('ECDH-ES+A256KW', 'X25519'), 'OKP', 'enc'],
    ['RSA-OAEP-256', () => generateEncryptionKey('RSA-OAEP-256'), 'RSA', 'enc'],
  ] as const)('%s: kid is the RFC 7638 thumbprint, alg and use are set', async (_, make, kty, use) => {
    const { privateJwk, publicJwk } = make();
    expect(privateJwk.kty).toBe(kty);
    expect(publicJwk.use).toBe(use);
    expect(privateJwk.kid).toBe(await calculateJwkThumbprint(publicJwk));
    expect(publicJwk.kid).toBe(privateJwk.kid);
    expect(publicJwk.alg).toBe(privateJwk.alg);
    expect(hasPrivateMembers(publicJwk)).toBe(false);
    expect(hasPrivateMembers(privateJwk)).toBe(true);
    expect(assertPublicJwk(publicJwk)).toBe(publicJwk);
    expect(assertPrivateJwk(privateJwk)).toBe(privateJwk);
    expect(publicJwkOf(privateJwk)).toEqual(publicJwk);
  });

  it('builds a public JWK by allow-list: unknown members do not leak', () => {
    const { privateJwk } = generateSigningKey('ES256');
    const pub = publicJwkOf({ ...privateJwk, secretNote: 'x', key_ops: ['sign'] } as never);
    expect(Object.keys(pub).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('refuses private members where a public key is expected', () => {
    const { privateJwk, publicJwk } = generateEncryptionKey('RSA-OAEP-256');
    expect(() => assertPublicJwk(privateJwk)).toThrow(InvalidKey);
    expect(() => assertPublicJwk({ ...publicJwk, d: 'AAAA' })).toThrow(/private/);
    expect(() => assertPublicJwk({ kty: 'oct', k: 'AAAA' })).toThrow(InvalidKey);
    expect(() => assertPublicJwk({ ...publicJwk, n: 'AAAA' })).toThrow(InvalidKey); // too short / invalid
    expect(() => assertPublicJwk([])).toThrow(InvalidKey);
    expect(() => assertPrivateJwk(publicJwk)).toThrow(InvalidKey);
    expect(() => publicJwkOf(publicJwk)).toThrow(TypeError);
  });

  it('refuses an EC point that is not on the curve', () => {
    const { publicJwk } = generateSigningKey('ES256');
    const other = generateSigningKey('ES256').publicJwk;
    expect(() => assertPublicJwk({ ...publicJwk, y: other.y })).toThrow(InvalidKey);
  });

  it('refuses unsupported algorithms and curves', () => {
    expect(() => generateSigningKey('RS256' as never)).toThrow(TypeError);
    expect(() => generateEncryptionKey('RSA-OAEP-256', 'P-256')).toThrow(TypeError);
    expect(() => generateEncryptionKey('ECDH-ES+A256KW', 'P-384' as never)).toThrow(TypeError);
    expect(() => jwkThumbprint({ kty: 'oct', k: 'x' })).toThrow(InvalidKey);
  });
});
