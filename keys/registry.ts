/**
 * The party registry: a JSON file the operator edits and the gateway reloads. It lists every party, its
 * role, and its public JOSE keys with their validity windows. `parseRegistry` treats the file as untrusted
 * (strict members, unique ids/URIs/kids, URIs derived from trust domain + role + id, public keys only,
 * each key's type fitting its `alg` and `use`); `PartyDirectory` answers lookups on a parsed registry.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet, JWK } from 'jose';
import { InvalidRegistry, NoValidKey, UnknownParty } from './errors.js';
import { isPartyId, isRole, isTrustDomain, partyUri, type Role } from './identity.js';
import { assertKeyFitsAlg, assertPublicJwk, isEncryptionAlg, isSigningAlg, type KeyUse } from './jose-keys.js';
import { arrayAt, instantAt, objectWith, stringAt, type Fail } from './json-guard.js';

export interface RegistryKey {
  /** Public JWK; `kid`, `alg` and `use` are required. */
  jwk: JWK;
  /** RFC 3339; the key is valid from this instant (inclusive). Absent: since ever. */
  validFrom?: string;
  /** RFC 3339; the key is valid until this instant (exclusive). Absent: no end. */
  validUntil?: string;
}

export interface RegistryParty {
  id: string;
  role: Role;
  name: string;
  uri: string;
  keys: RegistryKey[];
}

export interface Registry {
  trustDomain: string;
  parties: RegistryParty[];
}

const MAX_REGISTRY_BYTES = 16 * 1024 * 1024;
const MAX_KEYS_PER_PARTY = 100;
const MAX_KID = 128;
const MAX_NAME = 200;

const fail: Fail = (message, cause) => new InvalidRegistry(message, cause === undefined ? undefined : { cause });

/** Parses and checks an untrusted registry document. Returns a fresh copy. Throws `InvalidRegistry`. */
export function parseRegistry(json: unknown): Registry {
  const top = objectWith(json, 'registry', ['trustDomain', 'parties'], fail);
  const trustDomain = top['trustDomain'];
  if (!isTrustDomain(trustDomain)) throw fail('registry.trustDomain is not a valid trust domain');
  const ids = new Set<string>();
  const uris = new Set<string>();
  const parties = arrayAt(top['parties'], 'registry.parties', fail).map((p, i) => {
    const party = parseParty(p, `parties[${i}]`, trustDomain);
    if (ids.has(party.id)) throw fail(`parties[${i}].id is not unique`);
    if (uris.has(party.uri)) throw fail(`parties[${i}].uri is not unique`);
    ids.add(party.id);
    uris.add(party.uri);
    return party;
  });
  return { trustDomain, parties };
}

/** Reads and parses a registry file. Throws `InvalidRegistry` (with the I/O or JSON error as cause). */
export function loadRegistry(path: string): Registry {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw fail('registry file cannot be read', cause);
  }
  if (text.length > MAX_REGISTRY_BYTES) throw fail('registry file is too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw fail('registry file is not valid JSON', cause);
  }
  return parseRegistry(json);
}

function parseParty(value: unknown, path: string, trustDomain: string): RegistryParty {
  const p = objectWith(value, path, ['id', 'role', 'name', 'uri', 'keys'], fail);
  const id = p['id'];
  const role = p['role'];
  if (!isPartyId(id)) throw fail(`${path}.id is not a valid party id`);
  if (!isRole(role)) throw fail(`${path}.role is not a valid role`);
  const name = stringAt(p['name'], `${path}.name`, fail, MAX_NAME);
  const uri = stringAt(p['uri'], `${path}.uri`, fail);
  if (uri !== partyUri(trustDomain, role, id)) throw fail(`${path}.uri does not match trust domain, role and id`);
  const kids = new Set<string>();
  const keys = arrayAt(p['keys'], `${path}.keys`, fail, MAX_KEYS_PER_PARTY).map((k, j) => {
    const key = parseKey(k, `${path}.keys[${j}]`);
    const kid = key.jwk.kid!;
    if (kids.has(kid)) throw fail(`${path}.keys[${j}].jwk.kid is not unique`);
    kids.add(kid);
    return key;
  });
  return { id, role, name, uri, keys };
}

function parseKey(value: unknown, path: string): RegistryKey {
  const k = objectWith(value, path, ['jwk', 'validFrom', 'validUntil'], fail);
  let jwk: JWK;
  try {
    jwk = assertPublicJwk(k['jwk']);
  } catch (cause) {
    throw fail(`${path}.jwk is not a public key`, cause);
  }
  stringAt(jwk.kid, `${path}.jwk.kid`, fail, MAX_KID);
  const use = jwk.use;
  if (use !== 'sig' && use !== 'enc') throw fail(`${path}.jwk.use must be "sig" or "enc"`);
  const alg = jwk.alg;
  if (use === 'sig' ? !isSigningAlg(alg) : !isEncryptionAlg(alg)) throw fail(`${path}.jwk.alg is not allowed for its use`);
  try {
    assertKeyFitsAlg(jwk, alg as Parameters<typeof assertKeyFitsAlg>[1]);
  } catch (cause) {
    throw fail(`${path}.jwk does not fit its alg`, cause);
  }
  const key: RegistryKey = { jwk: structuredClone(jwk) };
  const from = k['validFrom'] === undefined ? undefined : instantAt(k['validFrom'], `${path}.validFrom`, fail);
  const until = k['validUntil'] === undefined ? undefined : instantAt(k['validUntil'], `${path}.validUntil`, fail);
  if (from && until && !(from.ms < until.ms)) throw fail(`${path}.validFrom must be before validUntil`);
  if (from) key.validFrom = from.text;
  if (until) key.validUntil = until.text;
  return key;
}

interface IndexedKey {
  key: RegistryKey;
  use: KeyUse;
  from: number;
  until: number;
  order: number;
}

/** Lookups on a parsed registry. Build a new one when the registry file is reloaded. */
export class PartyDirectory {
  readonly registry: Registry;
  readonly #byId = new Map<string, RegistryParty>();
  readonly #byUri = new Map<string, RegistryParty>();
  readonly #keys = new Map<string, IndexedKey[]>();
  readonly #jwksCache = new Map<string, JSONWebKeySet>();

  constructor(registry: Registry) {
    if (typeof registry !== 'object' || registry === null || !Array.isArray(registry.parties)) {
      throw new TypeError('expected a parsed registry');
    }
    this.registry = registry;
    for (const party of registry.parties) {
      this.#byId.set(party.id, party);
      this.#byUri.set(party.uri, party);
      this.#keys.set(
        party.id,
        party.keys.map((key, order) => ({
          key,
          use: key.jwk.use as KeyUse,
          from: key.validFrom === undefined ? -Infinity : Date.parse(key.validFrom),
          until: key.validUntil === undefined ? Infinity : Date.parse(key.validUntil),
          order,
        })),
      );
    }
  }

  get trustDomain(): string {
    return this.registry.trustDomain;
  }

  parties(role?: Role): RegistryParty[] {
    return this.registry.parties.filter((p) => role === undefined || p.role === role);
  }

  byUri(uri: string): RegistryParty | undefined {
    return this.#byUri.get(uri);
  }

  byId(id: string): RegistryParty | undefined {
    return this.#byId.get(id);
  }

  /** The party's keys of that use valid at `at` (default: now), oldest first. Throws `UnknownParty`. */
  keys(partyId: string, use: KeyUse, at: Date = new Date()): RegistryKey[] {
    return this.#valid(partyId, use, at).map((k) => k.key);
  }

  /** The newest key (latest `validFrom`) of that use valid at `at`. Throws `UnknownParty`, `NoValidKey`. */
  currentKey(partyId: string, use: KeyUse, at: Date = new Date()): RegistryKey {
    const valid = this.#valid(partyId, use, at);
    const newest = valid[valid.length - 1];
    if (!newest) throw new NoValidKey(`party has no ${use} key valid at that time`);
    return newest.key;
  }

  /**
   * A JWKS of the party's keys of that use valid at `at`. Deeply frozen, and the same object for the
   * same set of keys, so that verifiers can cache the imported keys by it. Throws `UnknownParty`.
   */
  jwks(partyId: string, use: KeyUse, at: Date = new Date()): JSONWebKeySet {
    const keys = this.keys(partyId, use, at);
    const cacheKey = `${partyId}\u0000${use}\u0000${keys.map((k) => k.jwk.kid).join('\u0000')}`;
    let jwks = this.#jwksCache.get(cacheKey);
    if (!jwks) {
      jwks = deepFreeze({ keys: keys.map((k) => structuredClone(k.jwk)) });
      this.#jwksCache.set(cacheKey, jwks);
    }
    return jwks;
  }

  #valid(partyId: string, use: KeyUse, at: Date): IndexedKey[] {
    if (use !== 'sig' && use !== 'enc') throw new TypeError('use must be "sig" or "enc"');
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError('at must be a valid Date');
    const keys = this.#keys.get(partyId);
    if (!keys) throw new UnknownParty('no such party in the registry');
    const t = at.getTime();
    return keys
      .filter((k) => k.use === use && k.from <= t && t < k.until)
      .sort((a, b) => a.from - b.from || a.order - b.order);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
