/**
 * The gateway's Prometheus metrics (prom-client, one registry per gateway so tests can run several).
 * Counters of domain events are derived from the audit log as it commits (see audit-counters.ts), so
 * they count exactly what the log says happened; gauges are read from the database at scrape time.
 * Label values are bounded codes (methods, status codes, reasons), never identifiers.
 */
import { X509Certificate } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import type { Gateway } from '../app.js';
import type { Sealer } from '../seal/sealer.js';

export interface CallObserver {
  /** One finished RPC: its method, gRPC status name and duration. */
  call(method: string, code: string, seconds: number): void;
  /** A party called with a certificate valid until `notAfter` (ms): its expiry is exported and warned about. */
  peer(partyId: string, notAfter: number): void;
}

export interface CommitObserver {
  commitBatch(size: number, seconds: number): void;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hdx_process_' });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const metrics = {
    registry,
    rpc: new Histogram({
      name: 'hdx_rpc_duration_seconds',
      help: 'gRPC calls by method and status code',
      labelNames: ['method', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'hdx_commit_batch_size',
      help: 'state changes per group commit (one fsync each)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'hdx_commit_duration_seconds',
      help: 'time to run and commit one group-commit batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    auditEvents: counter('hdx_audit_events_total', 'audit events committed, by action and outcome', ['action', 'outcome']),
    submissions: counter('hdx_submissions_total', 'submissions decided: accepted or denied', ['outcome']),
    denials: counter('hdx_denials_total', 'denied or refused actions by reason', ['action', 'reason']),
    transfers: counter('hdx_transfers_created_total', 'sealed transfers created'),
    deliveries: counter('hdx_deliveries_total', 'transfers delivered to insurers (re-deliveries included)'),
    acknowledgements: counter('hdx_acknowledgements_total', 'acknowledgements of transfers and decisions', ['kind']),
    decisions: counter('hdx_decisions_total', 'insurer decisions recorded, by outcome', ['outcome']),
  };
  return metrics;
}

const DAY_S = 24 * 3600;

/** Gauges read at scrape time: queues, audit log, checkpoints, seal pool, certificate expiry. */
export function registerGauges(
  metrics: GatewayMetrics,
  sources: { gateway: Gateway; sealer: Sealer; certificates: Record<string, Buffer | string> },
): void {
  const { gateway: gw, sealer } = sources;
  const registers = [metrics.registry];
  const queueRows = () => gw.store.reads.transfers.queue();
  const checkpoints = gw.store.reads.audit.checkpoints;
  new Gauge({
    name: 'hdx_queue_depth',
    help: 'transfers waiting for delivery, per insurer',
    labelNames: ['insurer'],
    registers,
    async collect() {
      const rows = await queueRows();
      this.reset();
      for (const row of rows) this.set({ insurer: row.insurer }, row.depth);
    },
  });
  new Gauge({
    name: 'hdx_queue_oldest_age_seconds',
    help: 'age of the oldest transfer waiting for delivery, per insurer',
    labelNames: ['insurer'],
    registers,
    async collect() {
      const rows = await queueRows();
      this.reset();
      const now = gw.clock();
      for (const row of rows) this.set({ insurer: row.insurer }, Math.max(0, (now - row.oldest) / 1000));
    },
  });
  new Gauge({
    name: 'hdx_audit_log_size',
    help: 'events in the audit log',
    registers,
    collect() {
      this.set(gw.audit.size);
    },
  });
  new Gauge({
    name: 'hdx_audit_unsigned_events',
    help: 'audit events not yet covered by a signed checkpoint',
    registers,
    async collect() {
      const latest = await checkpoints.latest();
      this.set(gw.audit.size - (latest?.treeSize ?? 0));
    },
  });
  new Gauge({
    name: 'hdx_audit_checkpoint_age_seconds',
    help: 'seconds since the last signed checkpoint (-1: none yet)',
    registers,
    async collect() {
      const at = await checkpoints.latestSignedAt();
      this.set(at === undefined ? -1 : Math.max(0, (gw.clock() - at) / 1000));
    },
  });
  new Gauge({
    name: 'hdx_seal_tasks_total',
    help: 'sealing tasks run (counter semantics; a gauge because the pool keeps the count)',
    registers,
    collect() {
      this.set(sealer.stats().tasks);
    },
  });
  new Gauge({
    name: 'hdx_seal_messages_total',
    help: 'messages sent to sealing workers (tasks are batched per message)',
    registers,
    collect() {
      this.set(sealer.stats().messages);
    },
  });
  new Gauge({
    name: 'hdx_seal_pool_utilization',
    help: 'share of the sealing workers busy (0..1; in-process sealing reports 0)',
    registers,
    collect() {
      this.set(sealer.stats().utilization ?? 0);
    },
  });
  new Gauge({
    name: 'hdx_seal_queue_length',
    help: 'sealing tasks waiting for a worker',
    registers,
    collect() {
      this.set(sealer.stats().queued ?? 0);
    },
  });
  const expiries = Object.entries(sources.certificates).map(([name, pem]) => ({
    name,
    notAfter: Date.parse(new X509Certificate(pem).validTo),
  }));
  new Gauge({
    name: 'hdx_certificate_expiry_seconds',
    help: 'seconds until the certificate expires (negative: expired); alert well before zero',
    labelNames: ['certificate'],
    registers,
    collect() {
      const now = gw.clock();
      for (const c of expiries) this.set({ certificate: c.name }, (c.notAfter - now) / 1000);
    },
  });
}

/** Seconds until each certificate expires: the gateway warns in its log when one is near. */
export function certificateExpiries(certificates: Record<string, Buffer | string>, now: number): { name: string; days: number }[] {
  return Object.entries(certificates).map(([name, pem]) => ({
    name,
    days: (Date.parse(new X509Certificate(pem).validTo) - now) / (DAY_S * 1000),
  }));
}

/** Warn this long before a certificate expires (renew with `hdx keys request --renew`). */
export const CERTIFICATE_WARNING_DAYS = 30;

export function callObserver(metrics: GatewayMetrics, options: { clock: () => number; logger: Logger }): CallObserver {
  const notAfterByParty = new Map<string, number>();
  const warnedAt = new Map<string, number>();
  new Gauge({
    name: 'hdx_party_certificate_expiry_seconds',
    help: 'seconds until the certificate a party last called with expires; alert well before zero',
    labelNames: ['party'],
    registers: [metrics.registry],
    collect() {
      const now = options.clock();
      for (const [party, notAfter] of notAfterByParty) this.set({ party }, (notAfter - now) / 1000);
    },
  });
  return {
    call: (method, code, seconds) => metrics.rpc.observe({ method, code }, seconds),
    peer(partyId, notAfter) {
      notAfterByParty.set(partyId, notAfter);
      const now = options.clock();
      const days = (notAfter - now) / (DAY_S * 1000);
      // Once a day per party: a warning per call would flood the log.
      if (days < CERTIFICATE_WARNING_DAYS && now - (warnedAt.get(partyId) ?? -Infinity) >= DAY_S * 1000) {
        warnedAt.set(partyId, now);
        options.logger.warn({ party: partyId, days: Math.floor(days) }, 'party certificate expires soon: the party should renew it (hdx keys request --renew)');
      }
    },
  };
}

export function commitObserver(metrics: GatewayMetrics): CommitObserver {
  return {
    commitBatch: (size, seconds) => {
      metrics.commitBatch.observe(size);
      metrics.commitSeconds.observe(seconds);
    },
  };
}
