/**
 * Caller identity, decided in exactly one place: the TLS peer certificate (verified against the
 * exchange CA by the TLS layer, since the server requires client certificates) names the party in its
 * SAN URI, and the registry must know that URI. Checked on every call and, for a stream, before every
 * message it sends: a connection outlives a certificate's validity and a party's place in the registry.
 */
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call.js';
import { randomUUID } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { CallContext, Party, PartyLookup } from '../context.js';
import { Unauthenticated } from '../errors.js';

/** What the peer certificate says, read once per call. */
export interface PeerCertificate {
  uri: string;
  notBefore: number;
  notAfter: number;
}

/**
 * Read once per connection, not per call: `getPeerCertificate()` turns the whole X.509 into an object
 * (three fingerprints included) each time, ~3 % of the gateway's event loop at load. The certificate of a
 * connection cannot change once read: renegotiation (TLS 1.2; 1.3 has none) is refused on that socket, so a
 * peer that tries to present another certificate loses the connection. Validity is still checked per call.
 */
const byConnection = new WeakMap<TLSSocket, PeerCertificate>();

export function peerCertificate(call: ServerSurfaceCall): PeerCertificate {
  const socket = tlsSocketOf(call);
  if (!socket) return readPeerCertificate(call);
  if (!socket.authorized) throw new Unauthenticated('a client certificate is required');
  let peer = byConnection.get(socket);
  if (!peer) {
    socket.disableRenegotiation();
    peer = readPeerCertificate(call);
    byConnection.set(socket, peer);
  }
  return peer;
}

/**
 * The TLS socket under a call: grpc-js keeps it at `call.call(.nextCall)*.stream.session.socket` and has no
 * public accessor; if a release moves it, every call reads the certificate afresh (slower, still correct).
 */
function tlsSocketOf(call: ServerSurfaceCall): TLSSocket | undefined {
  let at = (call as unknown as { call?: unknown }).call as { nextCall?: unknown; stream?: { session?: { socket?: unknown } } } | undefined;
  for (let depth = 0; at && depth < 16; depth++, at = at.nextCall as typeof at) {
    const socket = at.stream?.session?.socket;
    if (socket instanceof TLSSocket) return socket;
  }
  return undefined;
}

function readPeerCertificate(call: ServerSurfaceCall): PeerCertificate {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert || !cert.subjectaltname) throw new Unauthenticated('a client certificate is required');
  const uris = cert.subjectaltname
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  if (uris.length !== 1) throw new Unauthenticated('the client certificate must carry exactly one URI SAN');
  const notBefore = Date.parse(cert.valid_from);
  const notAfter = Date.parse(cert.valid_to);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
    throw new Unauthenticated('the client certificate has no readable validity period');
  }
  return { uri: uris[0]!, notBefore, notAfter };
}

/** The registered party the certificate names, if the certificate is valid at `now`. */
export function authorizedParty(peer: PeerCertificate, parties: PartyLookup, now: number): Party {
  if (now < peer.notBefore) throw new Unauthenticated('the client certificate is not yet valid');
  if (now >= peer.notAfter) throw new Unauthenticated('the client certificate has expired');
  const party = parties.byUri(peer.uri);
  if (!party) throw new Unauthenticated('the client certificate names a party the registry does not know');
  return party;
}

/** Throws unless the certificate still names, at `now`, the party `ctx` was built for, in the same role. */
export function recheckCaller(peer: PeerCertificate, parties: PartyLookup, ctx: CallContext, now: number): void {
  const party = authorizedParty(peer, parties, now);
  if (party.id !== ctx.party.id || party.role !== ctx.party.role) {
    throw new Unauthenticated('the registry no longer lists this party as it was when the call began');
  }
}

export function contextOf(peer: PeerCertificate, parties: PartyLookup, now: number, traceId: string = randomUUID()): CallContext {
  return { party: authorizedParty(peer, parties, now), traceId };
}

export function callContext(call: ServerSurfaceCall, parties: PartyLookup, now: number, traceId?: string): CallContext {
  return contextOf(peerCertificate(call), parties, now, traceId);
}
