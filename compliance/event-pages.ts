/**
 * The log's events `[start, end)` as pages from `ListEvents`, one page requested ahead while the caller
 * works on the current one. Memory stays at two pages whatever the log's size. A page that comes back
 * empty ends the walk early: the caller decides whether that is a failure.
 */
import { unaryCall } from '../proto/connect.js';
import type { AuditEvent } from '../proto/gen/hdx/v1/audit.js';
import type { ComplianceSession } from './session.js';

/** Events per request (the gateway serves at most 10,000). */
export const PAGE_SIZE = 5_000;

export async function* eventPages(
  session: ComplianceSession,
  start: number,
  end: number,
  pageSize = PAGE_SIZE,
): AsyncGenerator<AuditEvent[]> {
  const fetch = (from: number): Promise<AuditEvent[]> => {
    const page = unaryCall(session.clients.audit, session.clients.audit.listEvents, {
      startSeq: from,
      limit: Math.min(pageSize, end - from),
    }).then((response) => response.events);
    // Awaited below; this only keeps an abandoned prefetch from becoming an unhandled rejection.
    page.catch(() => undefined);
    return page;
  };
  let next = start;
  let pending = next < end ? fetch(next) : undefined;
  while (pending) {
    const from = next;
    const events = await pending;
    if (events.length === 0) return;
    // A gateway that sends more than asked gets no say beyond `end`.
    const page = events.length > end - from ? events.slice(0, end - from) : events;
    next = from + page.length;
    pending = next < end ? fetch(next) : undefined;
    yield page;
  }
}
