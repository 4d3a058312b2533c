/**
 * Domain counters from the audit log: after each commit, the events appended since the last look are
 * read back and counted. Counting what the log committed (not what handlers attempted) keeps the
 * metrics and the evidence in agreement, and needs no hook in domain code.
 */
import type { Gateway } from '../app.js';
import type { GatewayMetrics } from './metrics.js';

interface EventRow {
  seq: number;
  action: string;
  event_json: string;
}

/** Label values must be short codes; anything else is counted as "other" (bounded cardinality). */
const CODE = /^[a-z0-9][a-z0-9.-]{0,47}$/;
const label = (value: unknown) => (typeof value === 'string' && CODE.test(value) ? value : 'other');

export function countAuditEvents(gw: Gateway, metrics: GatewayMetrics): () => void {
  const since = gw.db.prepare('SELECT seq, action, event_json FROM audit_events WHERE seq >= ? ORDER BY seq');
  let next = gw.audit.size;
  return gw.audit.onGrowth((size) => {
    if (size <= next) return;
    for (const row of since.iterate(next) as Iterable<EventRow>) {
      count(metrics, JSON.parse(row.event_json) as { action: string; outcome: string; details?: Record<string, unknown> });
      next = row.seq + 1;
    }
  });
}

function count(m: GatewayMetrics, event: { action: string; outcome: string; details?: Record<string, unknown> }): void {
  const { action, outcome } = event;
  m.auditEvents.inc({ action: label(action), outcome: label(outcome) });
  if (outcome !== 'ok') m.denials.inc({ action: label(action), reason: label(event.details?.['reason']) });
  switch (action) {
    case 'record.submit':
      m.submissions.inc({ outcome: 'accepted' });
      break;
    case 'record.deny':
      m.submissions.inc({ outcome: 'denied' });
      break;
    case 'transfer.create':
      m.transfers.inc();
      break;
    case 'transfer.deliver':
      m.deliveries.inc();
      break;
    case 'transfer.acknowledge':
      m.acknowledgements.inc({ kind: 'transfer' });
      break;
    case 'decision.acknowledge':
      m.acknowledgements.inc({ kind: 'decision' });
      break;
    case 'decision.record':
      m.decisions.inc({ outcome: label(event.details?.['outcome']) });
      break;
  }
}
