import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidRegistry, NoValidKey, UnknownParty } from '../../keys/errors.js';
import { generateEncryptionKey, generateSigningKey, type JwkPair } from '../../keys/jose-keys.js';
import { loadRegistry, parseRegistry, PartyDirectory, type Registry } from '../../keys/registry.js';

let sigA: JwkPair;
let sigB: JwkPair;
let enc: JwkPair;
let gw: JwkPair;

function registry(): Registry {
  return {
    trustDomain: 'hdx.local',
    parties: [
      { id: 'gateway', role: 'gateway', name: 'hdx gateway', uri: 'spiffe://hdx.local/gateway/gateway', keys: [{ jwk: gw.publicJwk }] },
      {
        id: 'nanshan-people',
        role: 'hospital',
        name: '深圳市南山区人民医院',
        uri: 'spiffe://hdx.local/hospital/nanshan-people',
        keys: [
          { jwk: sigA.publicJwk, validFrom: '2025-01-01T00:00:00Z', validUntil: '2025-07-01T00:00:00Z' },
          { jwk: sigB.publicJwk, validFrom: '2025-06-01T00:00:00Z' },
        ],
      },
      {
        id: 'taikang-online',
        role: 'insurer',
        name: '泰康在线',
        uri: 'spiffe://hdx.local/insurer/taikang-online',
        keys: [{ jwk: enc.publicJwk }],
      },
    ],
  };
}

beforeAll(() => {
  sigA = generateSigningKey('ES256');
  sigB = generateSigningKey('EdDSA');
  enc = generateEncryptionKey('ECDH-ES+A256KW', 'X25519');
  gw = generateSigningKey('ES256');
});

describe('parseRegistry', () => {
  it('accepts a valid registry and returns a copy', () => {
    const input = registry();
    const parsed = parseRegistry(JSON.parse(JSON.stringify(input)));
    expect(parsed).toEqual(input);
    expect(parsed.parties[1]!.keys[0]!.jwk).not.toBe(input.parties[1]!.keys[0]!.jwk);
  });

  const broken: [string, (r: Registry) => unknown, RegExp][] = [
    ['duplicate id', (r) => ({ ...r, parties: [...r.parties, { ...r.parties[1]!, role: 'insurer', uri: 'spiffe://hdx.local/insurer/nanshan-people' }] }), /id is not unique/],
    ['uri not derived from trust domain, role and id', (r) => (r.parties[1]!.uri = 'spiffe://hdx.local/insurer/nanshan-people', r), /uri does not match/],
    ['uri in another trust domain', (r) => (r.parties[1]!.uri = 'spiffe://evil.local/hospital/nanshan-people', r), /uri does not match/],
    ['bad role', (r) => ((r.parties[1] as { role: string }).role = 'doctor', r), /role/],
    ['bad id', (r) => (r.parties[1]!.id = 'Nanshan', r), /id/],
    ['private key member', (r) => (r.parties[1]!.keys[0]!.jwk = sigA.privateJwk, r), /not a public key/],
    ['private member added to a public key', (r) => (r.parties[1]!.keys[0]!.jwk = { ...sigA.publicJwk, d: 'AAAA' }, r), /not a public key/],
    ['symmetric key', (r) => (r.parties[1]!.keys[0]!.jwk = { kty: 'oct', k: 'AAAA', kid: 'k', alg: 'HS256', use: 'sig' }, r), /not a public key/],
    ['missing kid', (r) => (r.parties[1]!.keys[0]!.jwk = { ...sigA.publicJwk, kid: undefined } as never, r), /kid/],
    ['duplicate kid', (r) => (r.parties[1]!.keys[1]!.jwk = { ...sigB.publicJwk, kid: sigA.publicJwk.kid } as never, r), /kid is not unique/],
    ['missing use', (r) => (r.parties[1]!.keys[0]!.jwk = { ...sigA.publicJwk, use: undefined } as never, r), /use/],
    ['alg not allowed', (r) => (r.parties[1]!.keys[0]!.jwk = { ...sigA.publicJwk, alg: 'RS256' }, r), /alg/],
    ['alg of the wrong use', (r) => (r.parties[2]!.keys[0]!.jwk = { ...enc.publicJwk, alg: 'ES256' }, r), /alg/],
    ['key type not fitting alg', (r) => (r.parties[1]!.keys[0]!.jwk = { ...sigA.publicJwk, alg: 'EdDSA' }, r), /does not fit/],
    ['validFrom after validUntil', (r) => (r.parties[1]!.keys[0]!.validUntil = '2024-01-01T00:00:00Z', r), /before validUntil/],
    ['validity not RFC 3339', (r) => (r.parties[1]!.keys[0]!.validFrom = '2025-01-01', r), /RFC 3339/],
    ['unknown member', (r) => ({ ...r, extra: 1 }), /unknown member/],
    ['unknown party member', (r) => ((r.parties[1] as unknown as Record<string, unknown>)['x'] = 1, r), /unknown member/],
    ['bad trust domain', (r) => ({ ...r, trustDomain: 'HDX' }), /trustDomain/],
    ['not an object', () => [], /must be an object/],
    ['parties not an array', (r) => ({ ...r, parties: {} }), /must be an array/],
    ['empty name', (r) => (r.parties[1]!.name = '', r), /name/],
  ];
  it.each(broken)('refuses %s', (_, mutate, message) => {
    const r = registry();
    let err: unknown;
    try {
      parseRegistry(JSON.parse(JSON.stringify(mutate(r) ?? r)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidRegistry);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('nanshan');
  });

  it('loads a file and reports unreadable or invalid JSON as InvalidRegistry with the cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-reg-'));
    const path = join(dir, 'registry.json');
    writeFileSync(path, JSON.stringify(registry()));
    expect(loadRegistry(path).parties).toHaveLength(3);
    writeFileSync(path, '{ not json');
    expect(() => loadRegistry(path)).toThrow(InvalidRegistry);
    const err = (() => {
      try {
        loadRegistry(join(dir, 'missing.json'));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(InvalidRegistry);
    expect(err?.cause).toBeDefined();
  });
});

describe('PartyDirectory', () => {
  it('looks parties up by id and URI', () => {
    const dir = new PartyDirectory(parseRegistry(registry()));
    expect(dir.byId('taikang-online')?.uri).toBe('spiffe://hdx.local/insurer/taikang-online');
    expect(dir.byUri('spiffe://hdx.local/hospital/nanshan-people')?.id).toBe('nanshan-people');
    expect(dir.byId('nobody')).toBeUndefined();
    expect(dir.parties('insurer').map((p) => p.id)).toEqual(['taikang-online']);
    expect(dir.trustDomain).toBe('hdx.local');
  });

  it('selects keys by use and validity window (validFrom inclusive, validUntil exclusive)', () => {
    const dir = new PartyDirectory(parseRegistry(registry()));
    const kids = (at: string) => dir.keys('nanshan-people', 'sig', new Date(at)).map((k) => k.jwk.kid);
    expect(kids('2024-12-31T23:59:59Z')).toEqual([]);
    expect(kids('2025-01-01T00:00:00Z')).toEqual([sigA.publicJwk.kid]);
    expect(kids('2025-06-15T00:00:00Z')).toEqual([sigA.publicJwk.kid, sigB.publicJwk.kid]);
    expect(kids('2025-07-01T00:00:00Z')).toEqual([sigB.publicJwk.kid]);
    expect(dir.keys('nanshan-people', 'enc')).toEqual([]);
    expect(dir.currentKey('nanshan-people', 'sig', new Date('2025-06-15T00:00:00Z')).jwk.kid).toBe(sigB.publicJwk.kid);
    expect(dir.currentKey('nanshan-people', 'sig', new Date('2025-03-01T00:00:00Z')).jwk.kid).toBe(sigA.publicJwk.kid);
    expect(dir.currentKey('taikang-online', 'enc').jwk.kid).toBe(enc.publicJwk.kid);
  });

  it('throws typed errors for an unknown party or no valid key', () => {
    const dir = new PartyDirectory(parseRegistry(registry()));
    expect(() => dir.currentKey('nanshan-people', 'sig', new Date('2020-01-01T00:00:00Z'))).toThrow(NoValidKey);
    expect(() => dir.currentKey('taikang-online', 'sig')).toThrow(NoValidKey);
    expect(() => dir.keys('nobody', 'sig')).toThrow(UnknownParty);
    expect(() => dir.keys('nanshan-people', 'x' as never)).toThrow(TypeError);
  });

  it('gives a frozen JWKS, the same object for the same key set', () => {
    const dir = new PartyDirectory(parseRegistry(registry()));
    const at = new Date('2025-06-15T00:00:00Z');
    const jwks = dir.jwks('nanshan-people', 'sig', at);
    expect(jwks.keys.map((k) => k.kid)).toEqual([sigA.publicJwk.kid, sigB.publicJwk.kid]);
    expect(dir.jwks('nanshan-people', 'sig', new Date('2025-06-20T00:00:00Z'))).toBe(jwks);
    expect(Object.isFrozen(jwks.keys[0])).toBe(true);
    expect(dir.jwks('nanshan-people', 'sig', new Date('2025-08-01T00:00:00Z')).keys).toHaveLength(1);
  });
});
