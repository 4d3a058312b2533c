/**
 * Opening a party's session with the gateway: load the party's own identity folder, dial with mutual TLS,
 * and check that the gateway presents the exchange's gateway identity before anything is sent. Shared by
 * every party's tool (hospital, insurer, regulator).
 */
import type { JSONWebKeySet } from 'jose';
import { VerificationError } from '../keys/errors.js';
import { loadPartyIdentity, type PartyIdentity } from '../keys/exchange/load.js';
import { partyUri, type Role } from '../keys/identity.js';
import { connectGateway, retryUnavailable, unaryCall, type GatewayClients, type RetryOptions } from './connect.js';

export interface PartySession {
  /** The party's folder, read again when a key was rotated while the session runs. */
  identityDir: string;
  identity: PartyIdentity;
  clients: GatewayClients;
  /** The gateway's URI: the issuer of envelopes and receipts, the audience of what we sign. */
  gatewayUri: string;
  /** The gateway's public signing keys, from the directory. */
  gatewayJwks: JSONWebKeySet;
  close(): void;
}

/**
 * Verifies something the gateway signed with its published keys; a token naming a key we do not have (the
 * gateway's key was rotated while this session runs) fetches the directory's keys again, once, and retries.
 */
export async function withGatewayKeys<T>(session: PartySession, verify: (jwks: JSONWebKeySet) => Promise<T>): Promise<T> {
  const held = session.gatewayJwks;
  try {
    return await verify(held);
  } catch (error) {
    if (!(error instanceof VerificationError) || error.code !== 'ERR_KEY') throw error;
    if (session.gatewayJwks === held) await refreshGatewayJwks(session);
    return verify(session.gatewayJwks);
  }
}

/** One directory fetch at a time per session: transfers that fail together wait for the same answer. */
const refreshing = new WeakMap<PartySession, Promise<void>>();
function refreshGatewayJwks(session: PartySession): Promise<void> {
  let pending = refreshing.get(session);
  if (!pending) {
    pending = fetchDirectory(session.clients, session.identity).then((directory) => {
      session.gatewayJwks = JSON.parse(directory.jwksJson) as JSONWebKeySet;
    });
    refreshing.set(session, pending);
    void pending.finally(() => refreshing.delete(session)).catch(() => {});
  }
  return pending;
}

async function fetchDirectory(clients: GatewayClients, identity: PartyIdentity, retry?: RetryOptions) {
  // A gateway restarting or at capacity answers UNAVAILABLE: opening a session rides that out too.
  const directory = await retryUnavailable(() => unaryCall(clients.directory, clients.directory.getJwks, {}), retry);
  if (directory.issuer !== partyUri(identity.party.trustDomain, 'gateway', 'gateway')) {
    throw new Error('the gateway does not present the expected identity');
  }
  return directory;
}

/**
 * `retry`: how long to ride out UNAVAILABLE while opening (default 30 s). A caller with its own retry loop
 * and messages (the long-running commands' first connection) passes `{ forMs: 0 }`.
 */
export async function openPartySession(identityDir: string, role: Role, address?: string, retry?: RetryOptions): Promise<PartySession> {
  const identity = loadPartyIdentity(identityDir);
  if (identity.party.role !== role) throw new Error(`this identity is not a ${role}`);
  const clients = connectGateway(address ?? identity.gateway, identity.tls);
  try {
    const directory = await fetchDirectory(clients, identity, retry);
    return {
      identityDir,
      identity,
      clients,
      gatewayUri: directory.issuer,
      gatewayJwks: JSON.parse(directory.jwksJson) as JSONWebKeySet,
      close: () => clients.close(),
    };
  } catch (error) {
    clients.close();
    throw error;
  }
}
