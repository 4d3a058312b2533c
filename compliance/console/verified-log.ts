/**
 * What the console shows, and only that: the log as this officer verified it a moment ago. A snapshot is
 * one run of `verifyLog` (checkpoint signature → consistency with the officer's saved checkpoint → every
 * event re-hashed into the signed root), keeping the events it checked. Nothing is shown from the gateway
 * without being tied to this snapshot: events it returns later are compared byte for byte with the
 * verified ones at the same position.
 */
import type { AuditEvent } from '../../proto/gen/hdx/v1/audit.js';
import type { GetServiceLevelsResponse } from '../../proto/gen/hdx/v1/settlement.js';
import { parseLoggedEvent, type LoggedEvent } from '../audit-event.js';
import { fetchServiceLevels } from '../service-levels.js';
import type { ComplianceSession } from '../session.js';
import { verifyLog, type VerifyReport } from '../verify.js';

export interface VerifiedEvent {
  event: LoggedEvent;
  /** The event's canonical JSON exactly as logged (its Merkle leaf is SHA-256(0x00 || json)). */
  json: string;
}

export interface Snapshot {
  report: VerifyReport;
  /** When this snapshot was taken (the console's clock). */
  takenAt: Date;
  /** The verified events, by position; empty when verification failed before the events. */
  events: VerifiedEvent[];
  /** The gateway's own service-level report (its promised windows, and figures to compare ours with). */
  serviceLevels?: GetServiceLevelsResponse;
  serviceLevelsError?: string;
}

export async function takeSnapshot(session: ComplianceSession, statePath: string, now: () => number): Promise<Snapshot> {
  const served: AuditEvent[] = [];
  const report = await verifyLog(session, { statePath, full: true, onEvents: (page) => served.push(...page) });
  let events: VerifiedEvent[] = [];
  if (report.ok) {
    try {
      events = served.map((e) => ({ event: parseLoggedEvent(e.eventJson), json: e.eventJson }));
    } catch (error) {
      report.ok = false;
      report.failure = `event schema: ${(error as Error).message}`;
    }
  }
  const snapshot: Snapshot = { report, takenAt: new Date(now()), events };
  try {
    snapshot.serviceLevels = await fetchServiceLevels(session, { until: new Date(now() + 1) });
  } catch (error) {
    snapshot.serviceLevelsError = (error as Error).message;
  }
  return snapshot;
}

/** The verified event at `seq` if the gateway's copy is byte-identical to it; otherwise undefined. */
export function verifiedCopy(snapshot: Snapshot, seq: number, json: string): VerifiedEvent | undefined {
  const mine = snapshot.events[seq];
  return mine && mine.json === json ? mine : undefined;
}
