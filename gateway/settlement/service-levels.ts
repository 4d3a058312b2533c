/**
 * Service-level figures for the regulator: per insurer and window, over transfers submitted in a period,
 * the median and 95th-percentile time from submission to (first) decision, the share decided inside the
 * promised window, and every transfer already past its window without a decision. Revisions do not move
 * a transfer's decision time; withheld transfers (consent revoked) expect no decision and are left out.
 * The query itself is audited, like every regulator read.
 */
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { InvalidInput } from '../errors.js';
import type { TimingRow } from '../storage/decisions.js';
import { median, percentile, windowMs, windowOf, WINDOWS, type WindowName } from './windows.js';

export interface ServiceLevelRequest {
  since?: Date;
  until?: Date;
  insurerId?: string;
}

export interface ServiceLevel {
  insurerId: string;
  window: WindowName;
  windowSeconds: number;
  /** Transfers submitted in the period that expect a decision. */
  submitted: number;
  decided: number;
  medianSeconds: number;
  p95Seconds: number;
  /** Of the decided, the share decided within the window (0 when none is decided). */
  withinWindowShare: number;
}

export interface OverdueTransfer {
  transferId: string;
  insurerId: string;
  window: WindowName;
  submittedAt: Date;
  ageSeconds: number;
}

export interface ServiceLevels {
  levels: ServiceLevel[];
  overdue: OverdueTransfer[];
}

export async function getServiceLevels(gw: Gateway, ctx: CallContext, request: ServiceLevelRequest): Promise<ServiceLevels> {
  requireRole(ctx, 'regulator');
  const now = gw.clock();
  const since = request.since?.getTime() ?? 0;
  const until = request.until?.getTime() ?? now + 1;
  if (!Number.isFinite(since) || !Number.isFinite(until) || until <= since) throw new InvalidInput('until must be after since');
  await gw.commit((tx) =>
    gw.audit.append(tx, {
      action: 'audit.query',
      actor: ctx.party.id,
      outcome: 'ok',
      details: { query: 'service-levels', filters: Object.keys(request).filter((k) => request[k as keyof ServiceLevelRequest]).sort() },
    }),
  );
  return computeServiceLevels(await gw.decisions.timings(since, until, request.insurerId ?? ''), gw.settings.serviceWindows, now);
}

/** The figures from timer rows, as a pure function (tests feed it rows directly). */
export function computeServiceLevels(
  rows: readonly TimingRow[],
  windows: Gateway['settings']['serviceWindows'],
  now: number,
): ServiceLevels {
  const groups = new Map<string, { insurerId: string; window: WindowName; submitted: number; latencies: number[] }>();
  const overdue: OverdueTransfer[] = [];
  for (const row of rows) {
    const window = windowOf(row.purpose, row.encounter_class);
    if (window === undefined || row.state === 'withheld') continue;
    const key = `${row.insurer_id}\u0000${window}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { insurerId: row.insurer_id, window, submitted: 0, latencies: [] }));
    group.submitted += 1;
    if (row.decided_at !== null) group.latencies.push(row.decided_at - row.submitted_at);
    else if (now - row.submitted_at > windowMs(windows, window)) {
      overdue.push({
        transferId: row.transfer_id,
        insurerId: row.insurer_id,
        window,
        submittedAt: new Date(row.submitted_at),
        ageSeconds: (now - row.submitted_at) / 1000,
      });
    }
  }
  const levels = [...groups.values()]
    .sort((a, b) => a.insurerId.localeCompare(b.insurerId) || WINDOWS.indexOf(a.window) - WINDOWS.indexOf(b.window))
    .map((g): ServiceLevel => {
      const limit = windowMs(windows, g.window);
      const sorted = g.latencies.sort((a, b) => a - b);
      const within = sorted.filter((ms) => ms <= limit).length;
      return {
        insurerId: g.insurerId,
        window: g.window,
        windowSeconds: limit / 1000,
        submitted: g.submitted,
        decided: sorted.length,
        medianSeconds: median(sorted) / 1000,
        p95Seconds: percentile(sorted, 95) / 1000,
        withinWindowShare: sorted.length === 0 ? 0 : within / sorted.length,
      };
    });
  overdue.sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime() || a.transferId.localeCompare(b.transferId));
  return { levels, overdue };
}
