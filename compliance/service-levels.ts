/**
 * The regulator's service-level report: per insurer and window, how fast decisions come back after
 * submission, and which transfers are past their promised window without one.
 */
import { unaryCall } from '../proto/connect.js';
import type { GetServiceLevelsResponse } from '../proto/gen/hdx/v1/settlement.js';
import type { ComplianceSession } from './session.js';

export interface ServiceLevelFilter {
  since?: Date;
  until?: Date;
  insurerId?: string;
}

export function fetchServiceLevels(session: ComplianceSession, filter: ServiceLevelFilter = {}): Promise<GetServiceLevelsResponse> {
  return unaryCall(session.clients.settlement, session.clients.settlement.getServiceLevels, {
    since: filter.since,
    until: filter.until,
    insurerId: filter.insurerId ?? '',
  });
}

/** Seconds as a short human duration: 0.42 s, 38 s, 2.5 h, 1.2 d. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A plain-text table, then the overdue transfers. */
export function formatServiceLevels(report: GetServiceLevelsResponse): string {
  const header = ['insurer', 'window', 'promised', 'submitted', 'decided', 'median', 'p95', 'within'];
  const rows = report.levels.map((l) => [
    l.insurerId,
    l.window,
    formatSeconds(l.windowSeconds),
    String(l.submitted),
    String(l.decided),
    l.decided ? formatSeconds(l.medianSeconds) : '—',
    l.decided ? formatSeconds(l.p95Seconds) : '—',
    l.decided ? `${(l.withinWindowShare * 100).toFixed(1)}%` : '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(header), ...rows.map(line)];
  if (rows.length === 0) out.push('(no transfers in this period)');
  out.push('', report.overdue.length === 0 ? 'no transfer is past its window' : `${report.overdue.length} transfer(s) past their window, undecided:`);
  for (const o of report.overdue) {
    out.push(`  ${o.transferId}  ${o.insurerId}  ${o.window}  submitted ${o.submittedAt?.toISOString() ?? '?'}  age ${formatSeconds(o.ageSeconds)}`);
  }
  return `${out.join('\n')}\n`;
}
