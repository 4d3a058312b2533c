/**
 * Caller identity, decided in exactly one place: the TLS peer certificate (verified against the
 * exchange CA by the TLS layer, since the server requires client certificates) names the party in its
 * SAN URI, and the registry must know that URI.
 */
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call.js';
import { randomUUID } from 'node:crypto';
import type { CallContext, PartyLookup } from '../context.js';
import { Unauthenticated } from '../errors.js';

export function callContext(call: ServerSurfaceCall, parties: PartyLookup): CallContext {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert || !cert.subjectaltname) throw new Unauthenticated('a client certificate is required');
  const uris = cert.subjectaltname
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  if (uris.length !== 1) throw new Unauthenticated('the client certificate must carry exactly one URI SAN');
  const party = parties.byUri(uris[0]!);
  if (!party) throw new Unauthenticated('the client certificate names a party the registry does not know');
  return { party, traceId: randomUUID() };
}
