/**
 * The log's events `[start, end)` as pages from `ListEvents`, one page requested ahead while the caller
 * works on the current one. Memory stays at two pages whatever the log's size. A page that comes back
 * empty ends the walk early: the caller decides whether that is a failure.
 */
import { unaryCall } from '../proto/connect.js';
import type { AuditEvent, PackedEvents } from '../proto/gen/hdx/v1/audit.js';
import type { ComplianceSession } from './session.js';

/** Events per request (the gateway serves at most 10,000). */
export const PAGE_SIZE = 5_000;

/** A page as the gateway answered it: packed (one buffer), or one message per event. */
export type EventPage = { packed: PackedEvents; count: number } | { events: AuditEvent[]; count: number };

export async function* eventPages(
  session: ComplianceSession,
  start: number,
  end: number,
  pageSize = PAGE_SIZE,
): AsyncGenerator<AuditEvent[]> {
  for await (const page of pages(session, start, end, pageSize, false)) if ('events' in page) yield page.events;
}

/**
 * As `eventPages`, but asking for packed pages (`PackedEvents`): what full verification reads. A
 * gateway may still answer a page unpacked (a row it cannot pack), or one that predates packing.
 */
export function packedEventPages(session: ComplianceSession, start: number, end: number, pageSize = PAGE_SIZE): AsyncGenerator<EventPage> {
  return pages(session, start, end, pageSize, true);
}

async function* pages(session: ComplianceSession, start: number, end: number, pageSize: number, packed: boolean): AsyncGenerator<EventPage> {
  const fetch = (from: number): Promise<EventPage> => {
    const page = unaryCall(session.clients.audit, session.clients.audit.listEvents, {
      startSeq: from,
      limit: Math.min(pageSize, end - from),
      packed,
    }).then((response): EventPage => {
      const p = response.packed;
      if (packed && p && p.jsonLengths.length > 0) {
        // A gateway that sends more than asked gets no say beyond `end`.
        if (p.jsonLengths.length > end - from) return { packed: { ...p, jsonLengths: p.jsonLengths.slice(0, end - from), leafHashes: p.leafHashes.subarray(0, 32 * (end - from)) }, count: end - from };
        return { packed: p, count: p.jsonLengths.length };
      }
      const events = response.events.length > end - from ? response.events.slice(0, end - from) : response.events;
      return { events, count: events.length };
    });
    // Awaited below; this only keeps an abandoned prefetch from becoming an unhandled rejection.
    page.catch(() => undefined);
    return page;
  };
  let next = start;
  let pending = next < end ? fetch(next) : undefined;
  while (pending) {
    const from = next;
    const page = await pending;
    if (page.count === 0) return;
    next = from + page.count;
    pending = next < end ? fetch(next) : undefined;
    yield page;
  }
}

/** A page's events one message each (for callers that keep them, such as the console). */
export function pageEvents(page: EventPage): AuditEvent[] {
  if ('events' in page) return page.events;
  const { firstSeq, eventJson, jsonLengths, leafHashes } = page.packed;
  const text = Buffer.from(eventJson.buffer, eventJson.byteOffset, eventJson.byteLength);
  let at = 0;
  return jsonLengths.map((length, i) => {
    const event = { seq: firstSeq + i, eventJson: text.toString('utf8', at, at + length), leafHash: Buffer.from(leafHashes.subarray(32 * i, 32 * i + 32)) };
    at += length;
    return event;
  });
}
