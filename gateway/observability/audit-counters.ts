/**
 * Domain counters from the audit log: after each commit, the events appended since the last look are
 * read back and counted. Counting what the log committed (not what handlers attempted) keeps the
 * metrics and the evidence in agreement, and needs no hook in domain code.
 */
import type { Gateway } from '../app.js';
import type { GatewayMetrics } from './metrics.js';

interface EventRow {
  seq: number;
  event_json: string;
}

/** Label values must be short codes; anything else is counted as "other" (bounded cardinality). */
const CODE = /^[a-z0-9][a-z0-9.-]{0,47}$/;
const label = (value: unknown) => (typeof value === 'string' && CODE.test(value) ? value : 'other');

export function countAuditEvents(gw: Gateway, metrics: GatewayMetrics): () => void {
  let next = gw.audit.size;
  // One read at a time, in log order, so no event is counted twice.
  let reading: Promise<void> = Promise.resolve();
  const readUpTo = async (size: number) => {
    while (next < size) {
      const rows: EventRow[] = await gw.store.reads.audit.range(next, 1000);
      if (rows.length === 0) return;
      for (const row of rows) {
        count(metrics, JSON.parse(row.event_json) as { action: string; outcome: string; details?: Record<string, unknown> });
        next = row.seq + 1;
      }
    }
  };
  return gw.audit.onGrowth((size) => {
    if (size <= next) return;
    reading = reading.then(() => readUpTo(size)).catch(() => {});
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
