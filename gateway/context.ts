/**
 * Who is calling. The transport layer builds a CallContext from the peer certificate in one place;
 * domain code receives it and decides authorisation itself, so no handler can skip a check.
 */
import type { JSONWebKeySet, JWK } from 'jose';

export type Role = 'hospital' | 'insurer' | 'regulator' | 'gateway';

export interface Party {
  id: string;
  role: Role;
  uri: string;
  name: string;
}

export interface CallContext {
  party: Party;
  /** Correlates log lines of one call; never derived from request content. */
  traceId: string;
}

/** The party registry as the domain needs it (backed by keys/registry's PartyDirectory). */
export interface PartyLookup {
  byId(id: string): Party | undefined;
  byUri(uri: string): Party | undefined;
  /** Public signing keys of a party valid at `at`, as a JWK Set. */
  signingJwks(partyId: string, at?: Date): JSONWebKeySet;
  /** The insurer's current encryption key (public JWK with kid and alg). */
  encryptionKey(partyId: string, at?: Date): JWK;
}
