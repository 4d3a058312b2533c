/**
 * A hospital's connection to the gateway: its identity (certificate, signing key) and the gateway's
 * URI, learned from the directory and checked against the trust domain in the hospital's own files.
 */
import { loadPartyIdentity, type PartyIdentity } from '../keys/exchange/load.js';
import { partyUri } from '../keys/identity.js';
import { connectGateway, unaryCall, type GatewayClients } from '../proto/connect.js';

export interface HospitalSession {
  identity: PartyIdentity;
  clients: GatewayClients;
  gatewayUri: string;
  close(): void;
}

export async function openHospitalSession(identityDir: string, address?: string): Promise<HospitalSession> {
  const identity = loadPartyIdentity(identityDir);
  if (identity.party.role !== 'hospital') throw new Error('this identity is not a hospital');
  const clients = connectGateway(address ?? identity.gateway, identity.tls);
  const directory = await unaryCall(clients.directory, clients.directory.getJwks, {});
  const expected = partyUri(identity.party.trustDomain, 'gateway', 'gateway');
  if (directory.issuer !== expected) {
    clients.close();
    throw new Error('the gateway does not present the expected identity');
  }
  return { identity, clients, gatewayUri: directory.issuer, close: () => clients.close() };
}
