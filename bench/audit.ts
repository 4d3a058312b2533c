/**
 * The audit log at scale, on a temporary SQLite file opened exactly as production opens it
 * (`openDatabase`: WAL, synchronous=FULL), with events appended through the real `AuditLog.append`:
 *
 * - durable append rate: concurrent writers through the real `Committer` (group commit: one fsync per
 *   batch), each commit appending the two events of a submission (record.submit + transfer.create);
 *   and, for contrast, one event per commit;
 * - the log is then built up to 1,000,000 events (100,000 with --quick) in bulk transactions;
 * - inclusion-proof latency at full size: the event row plus its proof, as `GetInclusionProof` does;
 * - consistency-proof latency from a random older size to the full size;
 * - full verification: every event read back in pages (as `ListEvents` serves them) and checked by
 *   the officer's `EventChain` (position, hash chain, stored leaf, root), then compared with the root.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParallelEventChain } from '../compliance/parallel-chain.js';
import type { AuditEventInput } from '../gateway/audit/events.js';
import { AuditLog } from '../gateway/audit/log.js';
import { auditQueries } from '../gateway/audit/query.js';
import { createTreeStore } from '../gateway/audit/tree-store.js';
import { createSqliteStore } from '../gateway/storage/sqlite/store.js';
import { FLOOR_SQLITE_ROWS } from './system-floors.js';
import type { BenchLine, BenchOptions } from './types.js';

const digest = (i: number, salt: string) => `sha256:${createHash('sha256').update(`${salt}${i}`).digest('base64url')}`;
const id = (prefix: string, i: number) => `${prefix}_${i.toString(16).padStart(32, '0')}`;
const HOSPITALS = ['nanshan-people', 'szu-general', 'futian-central'];
const INSURERS = ['taikang-online', 'pingan-health', 'cpic-health'];

/** Realistic events: the shapes and sizes the gateway writes, cycling through a transfer's life. */
function eventFor(i: number): AuditEventInput {
  const n = Math.floor(i / 5);
  const hospital = HOSPITALS[n % HOSPITALS.length]!;
  const insurer = INSURERS[n % INSURERS.length]!;
  const base = { consent: id('cns', n), patient: digest(n, 'p').slice(7) };
  switch (i % 5) {
    case 0:
      return {
        action: 'consent.grant', actor: hospital, outcome: 'ok', ...base, parties: [insurer],
        details: { purpose: 'DIRECT_SETTLEMENT', categories: ['charges', 'diagnosis', 'encounter', 'lab', 'medication', 'procedure'], hospitals: [hospital], termsDigest: digest(n, 't'), validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z' },
      };
    case 1:
      return { action: 'record.submit', actor: hospital, outcome: 'ok', submission: id('sub', n), patient: base.patient, parties: [insurer], details: { purpose: 'DIRECT_SETTLEMENT', bundleDigest: digest(n, 'b'), signed: true, encounterClass: 'IMP', transfers: 1 } };
    case 2:
      return {
        action: 'transfer.create', actor: 'gateway', outcome: 'ok', ...base, submission: id('sub', n), transfer: id('trf', n), parties: [hospital, insurer],
        details: { pseudonym: digest(n, 'ps').slice(7), envelopeDigest: digest(n, 'e'), payloadDigest: digest(n, 'pl'), profile: 'claim-settlement', methods: { redact: 12, dateShift: 0, cryptoHash: 3, keep: 40 }, detectors: { phone: 1 }, resourcesDropped: 1, resourcesOut: 14 },
      };
    case 3:
      return { action: 'transfer.deliver', actor: insurer, outcome: 'ok', consent: base.consent, submission: id('sub', n), transfer: id('trf', n), details: { attempt: 1, envelopeDigest: digest(n, 'e') } };
    default:
      return { action: 'transfer.acknowledge', actor: insurer, outcome: 'ok', consent: base.consent, submission: id('sub', n), transfer: id('trf', n), details: { envelopeDigest: digest(n, 'e'), receiptDigest: digest(n, 'r') } };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** A deterministic pseudo-random sequence, so runs are comparable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const total = options.quick ? 100_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'hdx-bench-audit-'));
  const store = createSqliteStore(join(dir, 'gateway.db'));
  const db = store.db;
  const lines: BenchLine[] = [];
  try {
    const log = new AuditLog(store);
    // Proofs and reads below are timed on the synchronous tree, as the engine computes them.
    const tree = createTreeStore(db);
    let next = 0;

    // 1. Durable appends through group commit: `writers` concurrent requests, each awaiting its commit.
    const writers = 64;
    const commits = options.quick ? 4_000 : 16_000;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (done < commits) {
          done += 1;
          await store.transaction(async (tx) => {
            await log.append(tx, eventFor(next++));
            await log.append(tx, eventFor(next++));
          });
        }
      }),
    );
    const groupSeconds = (performance.now() - t0) / 1000;
    lines.push({
      name: 'audit append, durable, group commit (64 writers × 2 events)',
      value: (commits * 2) / groupSeconds,
      unit: 'events/s',
      floor: FLOOR_SQLITE_ROWS,
      note: `synchronous=FULL, WAL; ${commits * 2} events in batches of ≤ ${writers} commits`,
    });

    // For contrast: one event per transaction, one fsync each.
    const single = options.quick ? 300 : 1_000;
    const t1 = performance.now();
    for (let i = 0; i < single; i++) await store.transaction((tx) => log.append(tx, eventFor(next++)));
    lines.push({
      name: 'audit append, durable, one event per commit',
      value: single / ((performance.now() - t1) / 1000),
      unit: 'events/s',
      note: 'one fsync per event: why the gateway groups commits',
    });

    // 2. Bulk build to `total`.
    const tBuild = performance.now();
    const BULK = 20_000;
    while (next < total) {
      const end = Math.min(total, next + BULK);
      await store.transaction(async (tx) => {
        while (next < end) await log.append(tx, eventFor(next++));
      });
    }
    const buildSeconds = (performance.now() - tBuild) / 1000;
    const size = tree.size();
    const fileMb = ['gateway.db', 'gateway.db-wal'].reduce((sum, f) => sum + (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0) / 1e6;
    lines.push({
      name: `audit log built to ${size.toLocaleString('en-US')} events (bulk, 20k per transaction)`,
      value: (size - done * 2 - single) / buildSeconds,
      unit: 'events/s',
      note: `${buildSeconds.toFixed(1)} s; database ${Math.round(fileMb)} MB`,
    });

    // 3. Inclusion proofs at full size: the event row and its proof, as GetInclusionProof serves them.
    const queries = auditQueries(db);
    const random = rng(7);
    const inclusion: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const seq = Math.floor(random() * size);
      const t = performance.now();
      const row = queries.get(seq);
      const proof = tree.inclusionProof(seq, size);
      inclusion.push(performance.now() - t);
      if (!row || proof.length === 0) throw new Error('no proof');
    }
    lines.push({
      name: `inclusion proof at ${size.toLocaleString('en-US')} events (event row + proof)`,
      value: median(inclusion),
      unit: 'ms (median)',
      target: '< 2 ms',
      meets: median(inclusion) < 2,
      note: `p99 ${percentile(inclusion, 0.99).toFixed(3)} ms over 2,000 random events`,
    });

    // 4. Consistency proofs from a random older size.
    const consistency: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const size1 = 1 + Math.floor(random() * (size - 1));
      const t = performance.now();
      tree.consistencyProof(size1, size);
      consistency.push(performance.now() - t);
    }
    lines.push({
      name: `consistency proof to ${size.toLocaleString('en-US')} events`,
      value: median(consistency),
      unit: 'ms (median)',
      note: `p99 ${percentile(consistency, 0.99).toFixed(3)} ms over 1,000 random older sizes`,
    });

    // 5. Full verification: every event, paged as ListEvents serves them, through the officer's check.
    const tVerify = performance.now();
    const cpuVerify = process.cpuUsage();
    const chain = new ParallelEventChain();
    const PAGE = 5_000;
    let read = 0;
    for (;;) {
      const rows = queries.range(read, PAGE);
      if (rows.length === 0) break;
      read += rows.length;
      await chain.push(rows.map((row) => ({ seq: row.seq, eventJson: row.event_json, leafHash: row.leaf_hash })));
    }
    const root = await chain.finish();
    const ok = read === size && root.equals(tree.root(size));
    const verifySeconds = (performance.now() - tVerify) / 1000;
    const { user, system } = process.cpuUsage(cpuVerify);
    const cpuSeconds = (user + system) / 1e6;
    if (!ok) throw new Error('full verification did not reproduce the root');
    const target = (10 * total) / 1_000_000;
    lines.push({
      name: `full verification of ${size.toLocaleString('en-US')} events (chain + root)`,
      value: verifySeconds,
      unit: 's',
      target: `< ${target} s`,
      meets: verifySeconds < target,
      note: `${Math.round(size / verifySeconds).toLocaleString('en-US')} events/s, ${cpuSeconds.toFixed(1)} CPU-s over all threads; compliance/parallel-chain.ts, ${Math.max(1, availableParallelism() - 1)} worker + the reading thread; pages of ${PAGE} from SQLite, no gRPC; load average ${loadavg()[0]!.toFixed(1)}`,
    });
    return lines;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
