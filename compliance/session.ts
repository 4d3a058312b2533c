/**
 * A compliance officer's connection. The log's verifier key comes from the officer's own files (the
 * key the exchange published), never from the gateway being checked.
 */
import { createPublicKey } from 'node:crypto';
import { loadPartyIdentity, type PartyIdentity } from '../keys/exchange/load.js';
import { formatVerifierKey, parseVerifierKey, type NoteVerifier } from '../keys/transparency/index.js';
import { connectGateway, type GatewayClients } from '../proto/connect.js';

export interface ComplianceSession {
  identity: PartyIdentity;
  clients: GatewayClients;
  origin: string;
  verifier: NoteVerifier;
  /** The verifier as a C2SP key string, to put in proof files. */
  verifierKey: string;
  close(): void;
}

export function logOriginOf(trustDomain: string): string {
  return `${trustDomain}/audit/v1`;
}

/** The configured log key as a C2SP verifier key string: given as such, or from the Ed25519 public key PEM. */
export function logVerifierKey(origin: string, options: { verifierKey?: string; publicKeyPem?: string }): string {
  if (options.verifierKey) return options.verifierKey;
  if (options.publicKeyPem) return formatVerifierKey(origin, createPublicKey(options.publicKeyPem));
  throw new Error('no audit-log key configured: pass --log-key or keep log.pub in the identity folder');
}

export function openComplianceSession(
  identityDir: string,
  options: { address?: string; verifierKey?: string } = {},
): ComplianceSession {
  const identity = loadPartyIdentity(identityDir);
  if (identity.party.role !== 'regulator') throw new Error('this identity is not a regulator');
  const origin = logOriginOf(identity.party.trustDomain);
  const verifierKey = logVerifierKey(origin, {
    ...(options.verifierKey ? { verifierKey: options.verifierKey } : {}),
    ...(identity.logPublicKeyPem ? { publicKeyPem: identity.logPublicKeyPem } : {}),
  });
  const clients = connectGateway(options.address ?? identity.gateway, identity.tls);
  return { identity, clients, origin, verifier: parseVerifierKey(verifierKey), verifierKey, close: () => clients.close() };
}
