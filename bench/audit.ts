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
 * - the chain check alone: every event read back in pages from SQLite through the officer's
 *   `ParallelEventChain` (position, hash chain, stored leaf, root), in this process;
 * - the floors of full verification on the same bytes: SHA-256 of every leaf and node on 1 and 2 cores,
 *   JSON.parse of every event;
 * - full verification end to end: `hdx audit verify` in its own process against `hdx gateway serve` in
 *   another, on this log, over mTLS — checkpoint, ListEvents, chain, root, every stored Merkle node
 *   through ListTreeNodes — with each process's CPU time beside the wall time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openComplianceSession } from '../compliance/session.js';
import { DATABASE_FILE } from '../gateway/backup.js';
import { initExchange, type ExchangeSummary } from '../keys/exchange/init.js';
import { unaryCall } from '../proto/connect.js';
import { ParallelEventChain } from '../compliance/parallel-chain.js';
import type { AuditEventInput } from '../gateway/audit/events.js';
import { AuditLog } from '../gateway/audit/log.js';
import { auditQueries } from '../gateway/audit/query.js';
import { createTreeStore } from '../gateway/audit/tree-store.js';
import { createSqliteStore } from '../gateway/storage/sqlite/store.js';
import { FLOOR_SQLITE_ROWS } from './system-floors.js';
import type { BenchLine, BenchOptions } from './types.js';

/** HDX_BENCH_AUDIT_EVENTS=<n>: build the log to n events (default 1,000,000; 100,000 with --quick). */
const SIZE = process.env['HDX_BENCH_AUDIT_EVENTS'] ? Number(process.env['HDX_BENCH_AUDIT_EVENTS']) : undefined;
/** HDX_BENCH_CPU_PROF=<dir>: the gateway and `hdx audit verify` processes write V8 CPU profiles there (gateway/, officer/). */
const PROFILE_DIR = process.env['HDX_BENCH_CPU_PROF'];

const digest = (i: number, salt: string) => `sha256:${createHash('sha256').update(`${salt}${i}`).digest('base64url')}`;
const id = (prefix: string, i: number) => `${prefix}_${i.toString(16).padStart(32, '0')}`;
const HOSPITALS = ['nanshan-people', 'szu-general', 'futian-central'];
const INSURERS = ['taikang-online', 'pingan-health', 'cpic-health'];

/** Realistic events: the shapes and sizes the gateway writes, cycling through a transfer's life. */
export function eventFor(i: number): AuditEventInput {
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
  const total = SIZE ?? (options.quick ? 100_000 : 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'hdx-bench-audit-'));
  // A real exchange's gateway folder, so a real gateway can serve this log for the end-to-end verify.
  const exchange = await initExchange(join(dir, 'exchange'));
  const store = createSqliteStore(join(exchange.gateway.dir, DATABASE_FILE));
  let closed = false;
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
    const fileMb = [DATABASE_FILE, `${DATABASE_FILE}-wal`].reduce((sum, f) => sum + (statSync(join(exchange.gateway.dir, f), { throwIfNoEntry: false })?.size ?? 0), 0) / 1e6;
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

    // 5. Full verification, in-process: every event paged from SQLite through the officer's chain check
    //    (no gRPC, no node comparison) — what the check itself costs.
    const tVerify = performance.now();
    const cpuVerify = process.cpuUsage();
    const chain = new ParallelEventChain();
    // Packed pages, as the gateway reads them for a full verification (auditQueries.packedRange).
    const PAGE = 8_192;
    let read = 0;
    const bytes: Buffer[] = [];
    for (;;) {
      const page = queries.packedRange(read, PAGE);
      if (!page) break;
      let at = 0;
      for (const length of page.jsonLengths) bytes.push(page.eventJson.subarray(at, (at += length)));
      read += page.jsonLengths.length;
      await chain.pushPacked(page);
    }
    const root = await chain.finish();
    const ok = read === size && root.equals(tree.root(size));
    const verifySeconds = (performance.now() - tVerify) / 1000;
    const { user, system } = process.cpuUsage(cpuVerify);
    if (!ok) throw new Error('full verification did not reproduce the root');
    lines.push({
      name: `chain check alone, ${size.toLocaleString('en-US')} events (in-process, no gRPC)`,
      value: verifySeconds,
      unit: 's',
      note: `${((user + system) / 1e6).toFixed(1)} CPU-s over all threads; compliance/parallel-chain.ts without the node comparison, packed pages of ${PAGE} from SQLite`,
    });

    // 6. The floors of full verification, on the same bytes: SHA-256 of every leaf (0x00 || event) and of
    //    every internal node (0x01 || left || right) with node:crypto, on one core and on two; JSON.parse of every event.
    lines.push(...(await verifyFloors(bytes)));
    bytes.length = 0;
    await store.close();
    closed = true;

    // 7. Full verification end to end: `hdx audit verify`'s own path (compliance/verify.ts) against a real
    //    gateway process serving this log over mTLS on loopback — signed checkpoint, every event through
    //    ListEvents, the chain and root, and every stored Merkle node through ListTreeNodes.
    lines.push(await endToEndVerify(exchange, size, total));
    return lines;
  } finally {
    if (!closed) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SHA-256 of every leaf (0x00 || event) and as many nodes (0x01 || 64 bytes) over `[from, to)`; returns ms. */
const HASH_SHARE = `
const { hash } = require('node:crypto');
module.exports = function hashShare(all, offsets, from, to) {
  const t = performance.now();
  const pair = Buffer.alloc(65, 1);
  for (let i = from; i < to; i++) {
    hash('sha256', all.subarray(offsets[i], offsets[i + 1]), 'buffer');
    hash('sha256', pair, 'buffer');
  }
  return performance.now() - t;
};`;

const hashShare = (() => {
  const module = { exports: {} as (all: Buffer, offsets: Uint32Array, from: number, to: number) => number };
  new Function('module', 'require', HASH_SHARE)(module, createRequire(import.meta.url));
  return module.exports;
})();

async function verifyFloors(events: Buffer[]): Promise<BenchLine[]> {
  const n = events.length;
  // The leaf inputs, 0x00 || event, in one shared buffer both workers read without a copy.
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + 1 + events[i]!.length;
  const all = Buffer.from(new SharedArrayBuffer(offsets[n]!));
  for (let i = 0; i < n; i++) events[i]!.copy(all, offsets[i]! + 1);
  const mb = offsets[n]! / 1e6;
  const one = hashShare(all, offsets, 0, n) / 1000;
  const workers = [0, 1].map(
    () => new Worker(`const { parentPort } = require('node:worker_threads'); const module = {}; ${HASH_SHARE}; parentPort.on('message', ({ all, offsets, from, to }) => parentPort.postMessage(module.exports(Buffer.from(all.buffer), offsets, from, to)));`, { eval: true }),
  );
  try {
    const share = (w: Worker, from: number, to: number) =>
      new Promise<number>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage({ all: new Uint8Array(all.buffer), offsets, from, to });
      });
    await Promise.all(workers.map((w) => share(w, 0, 1_000))); // warm: thread start, JIT
    const t = performance.now();
    await Promise.all([share(workers[0]!, 0, n >> 1), share(workers[1]!, n >> 1, n)]);
    const two = (performance.now() - t) / 1000;
    const tParse = performance.now();
    const text = new TextDecoder();
    for (let i = 0; i < n; i++) JSON.parse(text.decode(all.subarray(offsets[i]! + 1, offsets[i + 1])));
    const parse = (performance.now() - tParse) / 1000;
    const what = `${n.toLocaleString('en-US')} leaves (${Math.round(mb)} MB) + ${n.toLocaleString('en-US')} nodes`;
    return [
      { name: FLOOR_VERIFY_HASH_1, value: one, unit: 's', note: `node:crypto one-shot hash, ${what}` },
      { name: FLOOR_VERIFY_HASH_2, value: two, unit: 's', note: `two worker threads, half each, from one shared buffer` },
      { name: FLOOR_VERIFY_PARSE, value: parse, unit: 's', note: `UTF-8 decode + JSON.parse of every event, one core` },
    ];
  } finally {
    for (const w of workers) void w.terminate();
  }
}

const FLOOR_VERIFY_HASH_1 = 'floor: SHA-256 of every leaf and node, 1 core';
const FLOOR_VERIFY_HASH_2 = 'floor: SHA-256 of every leaf and node, 2 cores';
const FLOOR_VERIFY_PARSE = 'floor: JSON.parse of every event, 1 core';

/** Starts `hdx gateway serve` on the exchange's gateway folder in its own process; resolves its port. */
async function serveGateway(gatewayDir: string): Promise<{ port: number; child: ChildProcess }> {
  const hdx = fileURLToPath(new URL('../bin/hdx.js', import.meta.url));
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, 'gateway')}`] : [];
  const child = spawn(process.execPath, [...profile, hdx, 'gateway', 'serve', '--data', gatewayDir, '--listen', '127.0.0.1:0', '--seal-workers', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HDX_LOG_LEVEL: 'warn' },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const listen = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on port (\d+)/.exec(output);
      if (found) resolve(Number(found[1]));
    };
    child.stdout!.on('data', listen);
    child.stderr!.on('data', listen);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${output.slice(-2000)}`)));
  });
  return { port, child };
}

/** A process's CPU time so far (user + system), in seconds, from /proc (Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function endToEndVerify(exchange: ExchangeSummary, size: number, total: number): Promise<BenchLine> {
  const { port, child } = await serveGateway(exchange.gateway.dir);
  const identity = join(exchange.dir, 'parties', 'szdex');
  const session = openComplianceSession(identity, { address: `localhost:${port}` });
  try {
    // The checkpoint the gateway signs at start may lag its log: wait for one at the full size.
    for (;;) {
      const { treeSize } = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
      if (treeSize >= size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const load = loadavg()[0]!;
    const gatewayCpu = cpuOf(child.pid!);
    const t = performance.now();
    const officer = await auditVerifyCli(identity, `localhost:${port}`, join(exchange.dir, 'officer-state.json'));
    const seconds = (performance.now() - t) / 1000;
    const gatewaySeconds = cpuOf(child.pid!) - gatewayCpu;
    if (!officer.report.ok) throw new Error(`verify failed: ${officer.report.failure}`);
    const target = (5 * total) / 1_000_000;
    return {
      name: `full verification of ${size.toLocaleString('en-US')} events (hdx audit verify, end to end)`,
      value: seconds,
      unit: 's',
      target: `< ${target} s`,
      meets: seconds < target,
      floor: FLOOR_VERIFY_HASH_2,
      note: `${Math.round(size / seconds).toLocaleString('en-US')} events/s; CPU-s: officer ${officer.cpuSeconds.toFixed(1)} over its threads, gateway ${gatewaySeconds.toFixed(1)}; \`hdx audit verify\` in its own process (bin/hdx.js, the build) against a gateway process over mTLS: signed checkpoint, ListEvents (packed), chain, root and every stored node (ListTreeNodes); load average ${load.toFixed(1)}`,
    };
  } finally {
    session.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Runs `hdx audit verify --json` as the officer would, in its own process; its report and CPU time (all threads). */
async function auditVerifyCli(identity: string, address: string, statePath: string): Promise<{ report: { ok: boolean; failure?: string }; cpuSeconds: number }> {
  const hdx = fileURLToPath(new URL('../bin/hdx.js', import.meta.url));
  const preload = new URL('./cpu-at-exit.mjs', import.meta.url).href;
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, 'officer')}`] : [];
  const child = spawn(process.execPath, [`--import=${preload}`, ...profile, hdx, 'audit', 'verify', '--identity', identity, '--gateway', address, '--state', statePath, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const cpu = /hdx-bench-cpu-us (\d+)/.exec(err);
  if (!cpu || (code !== 0 && code !== 1)) throw new Error(`hdx audit verify exited ${code}: ${err.slice(-2000)}`);
  return { report: JSON.parse(out) as { ok: boolean; failure?: string }, cpuSeconds: Number(cpu[1]) / 1e6 };
}
