/**
 * `hdx audit query` without trusting the gateway's search: the log is verified (as `hdx audit verify`
 * does, against the officer's saved checkpoint) and the filter is applied here, to the verified events.
 * The gateway's own filtered answer runs on SQLite indexes that no check covers, so it is only compared
 * with ours: an event it left out, or one it returned that is not a verified match, is named.
 *
 * The patient filter is the exception that cannot be computed here: the patient reference is a keyed
 * hash only the gateway can compute. The gateway says which reference it searched with, and the verified
 * events are filtered on it (the resident ID itself goes to the gateway only, as before).
 */
import { verifyCheckpoint } from '../keys/transparency/index.js';
import { unaryCall } from '../proto/connect.js';
import type { QueryEventsResponse } from '../proto/gen/hdx/v1/audit.js';
import { parseLoggedEvent, type LoggedEvent } from './audit-event.js';
import type { ComplianceSession } from './session.js';
import { verifyLog, type VerifyReport } from './verify.js';

export interface EventFilter {
  since?: Date;
  until?: Date;
  partyId?: string;
  action?: string;
  consentId?: string;
  transferId?: string;
  patientNationalId?: string;
  /** At most this many events (0 or absent: all). */
  limit?: number;
}

export interface MatchedEvent {
  event: LoggedEvent;
  /** The event's canonical JSON as logged and verified. */
  json: string;
}

export interface QueryReport {
  /** The verification the answer rests on; when it failed there is no answer. */
  verify: VerifyReport;
  /** The verified events matching the filter, in log order, up to the signed size the query started at. */
  events: MatchedEvent[];
  /** The signed log size the answer covers (events 0 … coveredSize − 1). */
  coveredSize: number;
  /** How the gateway's own filtered answer compares with ours. */
  gateway: {
    answered: number;
    /** Matching verified events the gateway's search did not return. */
    leftOut: number[];
    /** Events the gateway returned that are not verified matches (no match, or other bytes). */
    unexpected: number[];
  };
}

/** Does a verified event match the filter (the same rules as the gateway's search, `gateway/audit/query.ts`)? */
export function matches(event: LoggedEvent, filter: EventFilter, patientRef: string | undefined): boolean {
  const at = Date.parse(event.at);
  if (filter.since && !(at >= filter.since.getTime())) return false;
  if (filter.until && !(at < filter.until.getTime())) return false;
  if (filter.partyId && event.actor !== filter.partyId && !event.parties.includes(filter.partyId)) return false;
  if (filter.action && event.action !== filter.action) return false;
  if (filter.consentId && event.consent !== filter.consentId) return false;
  if (filter.transferId && event.transfer !== filter.transferId) return false;
  if (patientRef !== undefined && event.patient !== patientRef) return false;
  return true;
}

export async function queryVerified(session: ComplianceSession, filter: EventFilter, options: { statePath: string }): Promise<QueryReport> {
  const limit = filter.limit || Number.POSITIVE_INFINITY;
  // 1. The signed size the answer covers: the gateway's answer is asked up to it, ours too (the query's
  // own audit event and anything logged meanwhile come after).
  const { checkpoint: note } = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
  const covered = verifyCheckpoint(note, session.verifier, session.origin).size;
  // 2. The gateway's answer, kept only to compare.
  const { served, patientRef } = await servedAnswer(session, filter, covered);
  // 3. Verify the log and filter its events here.
  const events: MatchedEvent[] = [];
  let schemaError: string | undefined;
  const verify = await verifyLog(session, {
    statePath: options.statePath,
    full: true,
    onEvents: (page) => {
      for (const e of page) {
        if (schemaError || events.length >= limit || Number(e.seq) >= covered) continue;
        try {
          const event = parseLoggedEvent(e.eventJson);
          if (matches(event, filter, filter.patientNationalId ? patientRef : undefined)) events.push({ event, json: e.eventJson });
        } catch (error) {
          schemaError = `event schema: event ${e.seq}: ${(error as Error).message}`;
        }
      }
    },
  });
  if (verify.ok && schemaError) Object.assign(verify, { ok: false, failure: schemaError });
  if (verify.ok && verify.treeSize < covered) Object.assign(verify, { ok: false, failure: `checkpoint: the log shrank from ${covered} to ${verify.treeSize} during the query` });
  if (!verify.ok) return { verify, events: [], coveredSize: covered, gateway: { answered: served.size, leftOut: [], unexpected: [] } };
  // 4. Compare.
  return { verify, events, coveredSize: covered, gateway: compareAnswers(events, served, limit) };
}

/**
 * The gateway's own filtered answer over events 0 … covered − 1 (seq → event JSON), and for a patient
 * query the reference it searched with. Throws if a patient query's answer does not say which.
 */
export async function servedAnswer(
  session: ComplianceSession,
  filter: EventFilter,
  covered: number,
): Promise<{ served: Map<number, string>; patientRef: string | undefined }> {
  const served = new Map<number, string>();
  let patientRef: string | undefined;
  // An empty log is asked too (for one event, dropped), so that the gateway still refuses a filter it cannot read.
  const limit = covered === 0 ? 1 : filter.limit || 0;
  const stream = session.clients.audit.queryEvents({
    since: filter.since,
    until: filter.until,
    partyId: filter.partyId ?? '',
    action: filter.action ?? '',
    consentId: filter.consentId ?? '',
    transferId: filter.transferId ?? '',
    patientNationalId: filter.patientNationalId ?? '',
    afterSeq: 0,
    // 0 would mean "no bound"; a one-event log is bounded below instead.
    untilSeq: Math.max(0, covered - 1),
    limit,
  });
  for await (const message of stream as AsyncIterable<QueryEventsResponse>) {
    if (message.patientRef) patientRef = message.patientRef;
    if (message.event && covered > 0) served.set(Number(message.event.seq), message.event.eventJson);
  }
  if (filter.patientNationalId && patientRef === undefined && covered > 0) {
    throw new Error('the gateway did not say which patient reference it searched with: cannot filter the verified events by patient');
  }
  return { served, patientRef };
}

/**
 * How the gateway's answer compares with the verified matches. With a limit each answer stops at its
 * last event, and neither can be judged beyond the other's.
 */
export function compareAnswers(events: readonly MatchedEvent[], served: ReadonlyMap<number, string>, limit = Number.POSITIVE_INFINITY): QueryReport['gateway'] {
  const servedSeqs = [...served.keys()].sort((a, b) => a - b);
  const servedBound = servedSeqs.length >= limit ? servedSeqs.at(-1)! : Number.POSITIVE_INFINITY;
  const ourBound = events.length >= limit ? events.at(-1)!.event.seq : Number.POSITIVE_INFINITY;
  const ours = new Map(events.map((m) => [m.event.seq, m.json]));
  return {
    answered: served.size,
    leftOut: events.filter((m) => m.event.seq <= servedBound && !served.has(m.event.seq)).map((m) => m.event.seq),
    unexpected: servedSeqs.filter((seq) => seq <= ourBound && ours.get(seq) !== served.get(seq)),
  };
}

/** The disagreement as one line naming the events, or undefined when the gateway's search agreed. */
export function disagreement(report: Pick<QueryReport, 'gateway'>): string | undefined {
  const { leftOut, unexpected } = report.gateway;
  if (leftOut.length === 0 && unexpected.length === 0) return undefined;
  const list = (seqs: number[]) => (seqs.length <= 20 ? seqs.join(', ') : `${seqs.slice(0, 20).join(', ')} and ${seqs.length - 20} more`);
  const parts = [
    ...(leftOut.length > 0 ? [`it left out event${leftOut.length === 1 ? '' : 's'} ${list(leftOut)}`] : []),
    ...(unexpected.length > 0 ? [`it returned event${unexpected.length === 1 ? '' : 's'} ${list(unexpected)}, which ${unexpected.length === 1 ? 'is' : 'are'} not a verified match`] : []),
  ];
  return `the gateway’s own search disagrees with the verified log: ${parts.join('; ')} (its search indexes may be damaged); the answer above is from the verified events`;
}
