/**
 * The console's figures, as pure functions of verified events: counts per party and day, denials by
 * reason, and service levels (submit → first decision per insurer and window) recomputed from the log
 * itself, so they can be held against the gateway's own report.
 */
import { median, percentile } from '../../keys/statistics.js';
import type { LoggedEvent } from '../audit-event.js';
import type { VerifiedEvent } from './verified-log.js';

/** Calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayOf(at: Date | string | number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}

/** One transfer as the log tells it. */
export interface TransferStory {
  transferId: string;
  /** Position of its transfer.create event: how the console names it in URLs. */
  seq: number;
  hospitalId: string;
  insurerId: string;
  consentId: string;
  submissionId: string;
  purpose: string;
  encounterClass: string;
  createdAt: number;
  deliveredAt?: number;
  acknowledgedAt?: number;
  /** The first decision (revisions do not move it). */
  decidedAt?: number;
  outcome?: string;
  withheldAt?: number;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export function transferStories(events: readonly VerifiedEvent[]): Map<string, TransferStory> {
  const submissions = new Map<string, LoggedEvent>();
  const stories = new Map<string, TransferStory>();
  for (const { event: e } of events) {
    const at = Date.parse(e.at);
    if (e.action === 'record.submit' && e.submission) submissions.set(e.submission, e);
    else if (e.action === 'transfer.create' && e.transfer) {
      const submit = e.submission ? submissions.get(e.submission) : undefined;
      stories.set(e.transfer, {
        transferId: e.transfer,
        seq: e.seq,
        hospitalId: e.parties[0] ?? '',
        insurerId: e.parties[1] ?? '',
        consentId: e.consent ?? '',
        submissionId: e.submission ?? '',
        purpose: text(submit?.details['purpose']),
        encounterClass: text(submit?.details['encounterClass']),
        createdAt: at,
      });
    } else if (e.transfer) {
      const story = stories.get(e.transfer);
      if (!story) continue;
      if (e.action === 'transfer.deliver') story.deliveredAt ??= at;
      else if (e.action === 'transfer.acknowledge') story.acknowledgedAt ??= at;
      else if (e.action === 'transfer.withhold') story.withheldAt ??= at;
      else if (e.action === 'decision.record' && e.details['revisionOf'] === undefined && story.decidedAt === undefined) {
        story.decidedAt = at;
        story.outcome = text(e.details['outcome']);
      }
    }
  }
  return stories;
}

export interface PartyCounts {
  partyId: string;
  role: 'hospital' | 'insurer';
  transfers: number;
  denials: number;
  withholdings: number;
  decisions: number;
}

/** Today's (or any day's) activity per hospital and insurer. */
export function countsForDay(events: readonly VerifiedEvent[], stories: Map<string, TransferStory>, day: string, timeZone: string): PartyCounts[] {
  const rows = new Map<string, PartyCounts>();
  const row = (partyId: string, role: PartyCounts['role']) => {
    const key = `${role}\u0000${partyId}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { partyId, role, transfers: 0, denials: 0, withholdings: 0, decisions: 0 }));
    return r;
  };
  for (const { event: e } of events) {
    if (dayOf(e.at, timeZone) !== day) continue;
    const story = e.transfer ? stories.get(e.transfer) : undefined;
    switch (e.action) {
      case 'transfer.create':
        if (story) {
          row(story.hospitalId, 'hospital').transfers += 1;
          row(story.insurerId, 'insurer').transfers += 1;
        }
        break;
      case 'record.deny':
        row(e.actor, 'hospital').denials += 1;
        break;
      case 'transfer.withhold':
        if (story) {
          row(story.hospitalId, 'hospital').withholdings += 1;
          row(story.insurerId, 'insurer').withholdings += 1;
        }
        break;
      case 'decision.record':
        row(e.actor, 'insurer').decisions += 1;
        if (e.parties[0]) row(e.parties[0], 'hospital').decisions += 1;
        break;
    }
  }
  return [...rows.values()].sort((a, b) => a.role.localeCompare(b.role) || a.partyId.localeCompare(b.partyId));
}

/** Transfers created per insurer per day, over `days` (oldest first). */
export function transfersPerDay(stories: Map<string, TransferStory>, days: readonly string[], timeZone: string): Map<string, number[]> {
  const index = new Map(days.map((d, i) => [d, i]));
  const out = new Map<string, number[]>();
  for (const s of stories.values()) {
    const i = index.get(dayOf(s.createdAt, timeZone));
    if (i === undefined) continue;
    let series = out.get(s.insurerId);
    if (!series) out.set(s.insurerId, (series = days.map(() => 0)));
    series[i]! += 1;
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** The `count` calendar days ending with the day of `now`, oldest first. */
export function lastDays(now: number, count: number, timeZone: string): string[] {
  const days: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const day = dayOf(now - i * 86_400_000, timeZone);
    if (days.at(-1) !== day) days.push(day);
  }
  return days;
}

/** Refusals by the gateway: record.deny (no consent) and decision.refuse, by reason. */
export function denialsByReason(events: readonly VerifiedEvent[], inPeriod: (e: LoggedEvent) => boolean = () => true): Array<{ reason: string; count: number }> {
  const counts = new Map<string, number>();
  for (const { event: e } of events) {
    if ((e.action !== 'record.deny' && e.action !== 'decision.refuse') || !inPeriod(e)) continue;
    const reason = `${e.action === 'record.deny' ? 'record' : 'decision'}: ${text(e.details['reason']) || '?'}`;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

// ── service levels, from the log ────────────────────────────────────────────────────────────────

export type WindowName = 'direct-settlement' | 'outpatient' | 'inpatient';

/** The promised window of a submission, as the exchange's rules define it (DESIGN: service windows). */
export function windowOf(purpose: string, encounterClass: string): WindowName | undefined {
  if (purpose === 'DIRECT_SETTLEMENT') return 'direct-settlement';
  if (purpose !== 'CLAIM') return undefined;
  return ['IMP', 'ACUTE', 'NONAC'].includes(encounterClass) ? 'inpatient' : 'outpatient';
}

export interface LogServiceLevel {
  insurerId: string;
  window: WindowName;
  submitted: number;
  decided: number;
  medianSeconds: number;
  p95Seconds: number;
}

export interface LogOverdue {
  transferId: string;
  seq: number;
  insurerId: string;
  window: WindowName;
  submittedAt: number;
  ageSeconds: number;
}

/**
 * Per insurer and window over transfers created in [since, until): submitted (withheld ones expect no
 * decision and are left out), decided, p50 and p95 seconds; and the transfers past `windowSeconds`.
 */
export function serviceLevelsFromLog(
  stories: Iterable<TransferStory>,
  windowSeconds: (w: WindowName) => number | undefined,
  now: number,
  since = 0,
  until = Number.POSITIVE_INFINITY,
): { levels: LogServiceLevel[]; overdue: LogOverdue[] } {
  const groups = new Map<string, { insurerId: string; window: WindowName; submitted: number; latencies: number[] }>();
  const overdue: LogOverdue[] = [];
  for (const s of stories) {
    const window = windowOf(s.purpose, s.encounterClass);
    if (!window || s.withheldAt !== undefined || s.createdAt < since || s.createdAt >= until) continue;
    const key = `${s.insurerId}\u0000${window}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { insurerId: s.insurerId, window, submitted: 0, latencies: [] }));
    g.submitted += 1;
    if (s.decidedAt !== undefined) g.latencies.push(s.decidedAt - s.createdAt);
    else {
      const limit = windowSeconds(window);
      if (limit !== undefined && now - s.createdAt > limit * 1000) {
        overdue.push({ transferId: s.transferId, seq: s.seq, insurerId: s.insurerId, window, submittedAt: s.createdAt, ageSeconds: (now - s.createdAt) / 1000 });
      }
    }
  }
  const order: WindowName[] = ['direct-settlement', 'outpatient', 'inpatient'];
  const levels = [...groups.values()]
    .sort((a, b) => a.insurerId.localeCompare(b.insurerId) || order.indexOf(a.window) - order.indexOf(b.window))
    .map((g) => {
      const sorted = g.latencies.sort((a, b) => a - b);
      return {
        insurerId: g.insurerId,
        window: g.window,
        submitted: g.submitted,
        decided: sorted.length,
        medianSeconds: median(sorted) / 1000,
        p95Seconds: percentile(sorted, 95) / 1000,
      };
    });
  overdue.sort((a, b) => a.submittedAt - b.submittedAt || a.transferId.localeCompare(b.transferId));
  return { levels, overdue };
}
