/**
 * The settlement bench's figures for one offered rate, from the hospital's own clock (scheduled submit →
 * response, → decision on disk) and the gateway's timestamps (accepted → delivered → acknowledged →
 * decided): p50 and p99 of each stage, sustained throughput at each stage, CPU per record per party, and
 * the gateway's peak RSS; and, for the soak, the gateway's RSS at the start and end of its window.
 */
import { FLOOR_GRPC_MTLS } from '../system-floors.js';
import type { BenchLine } from '../types.js';
import type { HospitalBenchResult } from './hospital.js';
import type { RssSampler } from './rss.js';
import type { ThreadGroup } from './threads.js';

const TARGET_RATE = 200;
const TARGET_P99_MS = 250;
const RSS_TARGET_MB = 300;
/** The soak's memory is "flat" when it grows less than this over the window. */
const FLAT_GROWTH = 0.1;
export const CRYPTO_FLOOR = 'settlement: the cryptography of one record alone (floor)';

export const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
export const at = (s: number[], q: number) => (s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!);

export interface StageRow {
  created: number;
  delivered: number | null;
  acknowledged: number | null;
  decided: number | null;
}

type PartyThreads = Record<'gateway' | 'hospital' | 'insurer', ThreadGroup[]>;

export interface SettlementFigures {
  rate: number;
  note: string;
  result: HospitalBenchResult;
  rows: StageRow[];
  cpuPerRecord: { gateway: number; insurer: number; hospital: number };
  cpuTotal: number;
  /** Per record: the gateway's event-loop thread CPU (ms), group commits, and the ms they held the event loop. */
  gatewayLoop: { mainThreadCpu: number; commits: number; itemsPerCommit: number; commitMs: number };
  /**
   * Each party's CPU by thread name (`threads.ts`), ms in all; empty off Linux: over its whole window
   * (from 'go', warm-up included) and over the measured records only (from the first measured send).
   */
  threads?: { all: PartyThreads; measured: PartyThreads };
  /** What the thread CPU is divided by: every record sent after 'go' (warm-up included), and the measured ones. */
  records?: number;
  measuredRecords?: number;
  gatewayRssPeak: number;
  partyRssPeak: { hospital: number; insurer: number };
  cores: number;
}

/** Records per second through a stage: how many reached it, over first acceptance → last to reach it. */
function throughput(rows: StageRow[], stage: 'created' | 'delivered' | 'acknowledged' | 'decided'): number {
  const reached = rows.map((r) => r[stage]).filter((t): t is number => t !== null);
  if (reached.length === 0) return 0;
  const first = Math.min(...rows.map((r) => r.created));
  const seconds = (Math.max(...reached) - first) / 1000;
  return seconds > 0 ? reached.length / seconds : Number.NaN;
}

export function settlementLines(f: SettlementFigures): BenchLine[] {
  const { rate, result, rows } = f;
  const label = `settlement @${rate}/s`;
  const gap = (from: keyof StageRow, to: keyof StageRow) =>
    sorted(rows.flatMap((r) => (r[from] !== null && r[to] !== null ? [r[to]! - r[from]!] : [])));
  const stages: Array<[string, number[]]> = [
    ['submit call (scheduled → response)', sorted(result.submitLatencies)],
    ['gateway accepted → delivered', gap('created', 'delivered')],
    ['gateway delivered → acknowledged', gap('delivered', 'acknowledged')],
    ['gateway acknowledged → decided', gap('acknowledged', 'decided')],
    ['gateway accepted → decided', gap('created', 'decided')],
  ];
  const e2e = sorted(result.latencies);
  const p99 = at(e2e, 0.99);
  const complete = result.missing === 0 && result.errors === 0;
  const mix = Object.entries(result.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines: BenchLine[] = [
    { name: `${label}: submit → decision at the desk (p50)`, value: at(e2e, 0.5), unit: 'ms', note: f.note, chart: { id: 'settlement-latency', series: 'end to end p50', x: rate } },
    {
      name: `${label}: submit → decision at the desk (p99)`,
      value: p99,
      unit: 'ms',
      chart: { id: 'settlement-latency', series: 'end to end p99', x: rate },
      ...(rate <= TARGET_RATE && { target: `< ${TARGET_P99_MS} ms`, meets: p99 < TARGET_P99_MS && complete }),
    },
    { name: `${label}: submit → decision at the desk (max)`, value: at(e2e, 1), unit: 'ms' },
  ];
  for (const [stage, values] of stages) {
    lines.push({ name: `${label}: ${stage} (p50)`, value: at(values, 0.5), unit: 'ms' });
    lines.push({ name: `${label}: ${stage} (p99)`, value: at(values, 0.99), unit: 'ms' });
  }
  lines.push(
    { name: `${label}: load generator lag (p99)`, value: at(sorted(result.sendLag), 0.99), unit: 'ms', note: 'how late sends left their schedule (open loop: the schedule does not wait for responses)' },
    { name: `${label}: offered`, value: rate, unit: 'records/s', chart: { id: 'settlement-throughput', series: 'offered', x: rate } },
    { name: `${label}: sustained submitted`, value: throughput(rows, 'created'), unit: 'records/s', chart: { id: 'settlement-throughput', series: 'submitted', x: rate } },
    { name: `${label}: sustained delivered`, value: throughput(rows, 'delivered'), unit: 'records/s', chart: { id: 'settlement-throughput', series: 'delivered', x: rate } },
    { name: `${label}: sustained acknowledged`, value: throughput(rows, 'acknowledged'), unit: 'records/s', chart: { id: 'settlement-throughput', series: 'acknowledged', x: rate } },
    {
      name: `${label}: sustained decided`,
      value: throughput(rows, 'decided'),
      unit: 'records/s',
      floor: FLOOR_GRPC_MTLS,
      note: `offered ${rate}/s; ${mix}; each record is several calls, so the echo floor is a ceiling, not a goal`,
      chart: { id: 'settlement-throughput', series: 'decided', x: rate },
    },
    {
      name: `${label}: CPU per record, all three parties`,
      value: f.cpuTotal,
      unit: 'ms',
      target: '<= 2 ms',
      meets: f.cpuTotal <= 2,
      floor: CRYPTO_FLOOR,
      note: `user + system, all threads, warm-up included; ${rate}/s on ${f.cores} cores leaves ${((f.cores * 1000) / rate).toFixed(1)} ms per record`,
    },
    { name: `${label}: CPU per record, gateway`, value: f.cpuPerRecord.gateway, unit: 'ms' },
    {
      name: `${label}: CPU per record, gateway event-loop thread`,
      value: f.gatewayLoop.mainThreadCpu,
      unit: 'ms',
      note: 'the one thread every call, SQL statement and audit append runs on; the rest is seal workers, GC and JIT threads',
    },
    {
      name: `${label}: gateway group commits per record`,
      value: f.gatewayLoop.commits,
      unit: 'commits',
      note: `${f.gatewayLoop.itemsPerCommit.toFixed(1)} state changes per commit (one fsync each, synchronous=FULL)`,
    },
    {
      name: `${label}: gateway event loop held by group commits, per record`,
      value: f.gatewayLoop.commitMs,
      unit: 'ms',
      note: 'statements and COMMIT (fsync) of the batches, wall time (stretched when the machine is shared); better-sqlite3 is synchronous, so nothing else runs on the loop meanwhile',
    },
    ...threadLines(label, f),
    { name: `${label}: CPU per record, insurer adapter`, value: f.cpuPerRecord.insurer, unit: 'ms' },
    { name: `${label}: CPU per record, hospital adapter`, value: f.cpuPerRecord.hospital, unit: 'ms' },
    {
      name: `${label}: gateway RSS (peak)`,
      value: f.gatewayRssPeak,
      unit: 'MB',
      target: `< ${RSS_TARGET_MB} MB`,
      meets: f.gatewayRssPeak < RSS_TARGET_MB,
      note: 'VmRSS of the gateway process, sampled every 250 ms',
    },
    { name: `${label}: insurer adapter RSS (peak)`, value: f.partyRssPeak.insurer, unit: 'MB' },
    { name: `${label}: hospital adapter RSS (peak)`, value: f.partyRssPeak.hospital, unit: 'MB', note: 'holds up to 5,000 prepared bundles' },
  );
  return lines;
}

const THREAD_NOTES: Record<string, string> = {
  'event loop': "the main thread: all of the party's JavaScript but the workers'",
  'hdx-seal': 'piscina seal workers: validation, de-identification, JWE, envelope signature',
  'hdx-wal-ckpt': 'the WAL checkpoint thread (copies the WAL into the database file, fsync)',
  'libuv-pool': "libuv's thread pool: async fs, WebCrypto, zlib, DNS",
  node: "V8's platform threads (JIT compiles — most of it in quick runs, per perf —, concurrent GC) and Node's other helpers",
};

/**
 * CPU per record of each party's threads, by name (see THREAD_NOTES): warm-up included (as the per-party
 * lines), then the measured records alone — the difference is mostly warm-up (V8 compiling hot code).
 */
function threadLines(label: string, f: SettlementFigures): BenchLine[] {
  const { threads, records, measuredRecords } = f;
  if (!threads || !records || !measuredRecords) return [];
  return (['gateway', 'insurer', 'hospital'] as const).flatMap((party) => [
    ...threads.all[party].map((g) => ({
      name: `${label}: CPU per record, ${party} threads '${g.name}'`,
      value: g.ms / records,
      unit: 'ms',
      note: `${g.threads} thread${g.threads === 1 ? '' : 's'}; ${THREAD_NOTES[g.name] ?? 'named by its code'}; warm-up included`,
    })),
    ...threads.measured[party].map((g) => ({
      name: `${label}: CPU per record after warm-up, ${party} threads '${g.name}'`,
      value: g.ms / measuredRecords,
      unit: 'ms',
      note: 'from the first measured send (sampled every 100 ms) to the end; the measured records only',
    })),
  ]);
}

export function soakLines(rate: number, rss: RssSampler, from: number, to: number, note: string): BenchLine[] {
  const { startMb, endMb } = rss.window(from, to);
  const growth = (endMb - startMb) / startMb;
  const minutes = ((to - from) / 60_000).toFixed(1);
  const label = `soak @${rate}/s for ${minutes} min`;
  return [
    { name: `${label}: gateway RSS at start`, value: startMb, unit: 'MB', note },
    {
      name: `${label}: gateway RSS at end`,
      value: endMb,
      unit: 'MB',
      target: `< ${RSS_TARGET_MB} MB and flat (< ${FLAT_GROWTH * 100} % growth)`,
      meets: endMb < RSS_TARGET_MB && growth < FLAT_GROWTH,
      note: `${(growth * 100).toFixed(1)} % over the window`,
    },
    { name: `${label}: gateway RSS (peak)`, value: rss.peakMb(), unit: 'MB' },
  ];
}
