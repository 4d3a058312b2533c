/**
 * Party identities. Every party — hospital, insurer, regulator, and the gateway itself — is named by a
 * SPIFFE-style URI `spiffe://<trust domain>/<role>/<id>`. It is the SAN URI of the party's certificate,
 * the `iss`/`aud` of every signed format, and the key of the party registry.
 */
import { InvalidPartyUri } from './errors.js';

export type Role = 'hospital' | 'insurer' | 'regulator' | 'gateway';

export const ROLES: readonly Role[] = Object.freeze(['hospital', 'insurer', 'regulator', 'gateway'] as const);

export interface PartyRef {
  trustDomain: string;
  role: Role;
  id: string;
}

const SCHEME = 'spiffe://';
const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const TRUST_DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const MAX_TRUST_DOMAIN = 253;
const PARTY_URI = new RegExp(
  `^spiffe://(${LABEL}(?:\\.${LABEL})*)/(hospital|insurer|regulator|gateway)/([a-z0-9][a-z0-9-]{1,62})$`,
);

/**
 * URIs that parsed, so the same few are not run through the regexes again on every call and decision
 * (an exchange has few parties; bounded all the same, against a peer sending many).
 */
const parsed = new Map<string, PartyRef>();
const MAX_PARSED = 1024;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** A party id: `[a-z0-9][a-z0-9-]{1,62}` (2 to 63 characters). */
export function isPartyId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** A trust domain: lowercase DNS labels, e.g. `hdx.local`. */
export function isTrustDomain(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TRUST_DOMAIN && TRUST_DOMAIN.test(value);
}

/** `spiffe://<trustDomain>/<role>/<id>`; throws TypeError on an invalid part (caller misuse). */
export function partyUri(trustDomain: string, role: Role, id: string): string {
  if (!isTrustDomain(trustDomain)) throw new TypeError('invalid trust domain');
  if (!isRole(role)) throw new TypeError('invalid role');
  if (!isPartyId(id)) throw new TypeError('invalid party id');
  return `${SCHEME}${trustDomain}/${role}/${id}`;
}

/**
 * Parses a party URI strictly: no port, user info, query, fragment, percent-encoding, upper case,
 * trailing slash or extra path segment. Throws `InvalidPartyUri` on anything else (untrusted input).
 */
export function parsePartyUri(uri: string): PartyRef {
  if (typeof uri !== 'string' || uri.length > SCHEME.length + MAX_TRUST_DOMAIN + 80) {
    throw new InvalidPartyUri('not a party URI');
  }
  const known = parsed.get(uri);
  if (known) return { ...known };
  const match = PARTY_URI.exec(uri);
  const [, trustDomain, role, id] = match ?? [];
  if (trustDomain === undefined || !isTrustDomain(trustDomain) || !isRole(role) || id === undefined) {
    throw new InvalidPartyUri('not a party URI');
  }
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(uri, { trustDomain, role, id });
  return { trustDomain, role, id };
}

/** Like `parsePartyUri`, and also requires the role (and, if given, the trust domain). */
export function parsePartyUriOf(uri: string, role: Role, trustDomain?: string): PartyRef {
  const ref = parsePartyUri(uri);
  if (ref.role !== role) throw new InvalidPartyUri('party URI has an unexpected role');
  if (trustDomain !== undefined && ref.trustDomain !== trustDomain) {
    throw new InvalidPartyUri('party URI is outside the trust domain');
  }
  return ref;
}
