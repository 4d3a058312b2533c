/** An insurer's connection to the gateway, with the gateway's JWKS for verifying envelopes. */
import type { JSONWebKeySet } from 'jose';
import { loadPartyIdentity, type PartyIdentity } from '../keys/exchange/load.js';
import { partyUri } from '../keys/identity.js';
import { connectGateway, unaryCall, type GatewayClients } from '../proto/connect.js';

export interface InsurerSession {
  identity: PartyIdentity;
  clients: GatewayClients;
  gatewayUri: string;
  gatewayJwks: JSONWebKeySet;
  close(): void;
}

export async function openInsurerSession(identityDir: string, address?: string): Promise<InsurerSession> {
  const identity = loadPartyIdentity(identityDir);
  if (identity.party.role !== 'insurer' || !identity.encryptionKey) throw new Error('this identity is not an insurer');
  const clients = connectGateway(address ?? identity.gateway, identity.tls);
  const directory = await unaryCall(clients.directory, clients.directory.getJwks, {});
  const expected = partyUri(identity.party.trustDomain, 'gateway', 'gateway');
  if (directory.issuer !== expected) {
    clients.close();
    throw new Error('the gateway does not present the expected identity');
  }
  return {
    identity,
    clients,
    gatewayUri: directory.issuer,
    gatewayJwks: JSON.parse(directory.jwksJson) as JSONWebKeySet,
    close: () => clients.close(),
  };
}
