/**
 * Submit-to-decision latency through the real stack, the number the direct-settlement pilot is about:
 * the gateway (mutual-TLS gRPC, seal worker pool, durable group commit), the hospital adapter and the
 * insurer adapter each in a process of its own (own event loop and I/O pool, as on their own machines —
 * all three share this machine's cores), swept over offered rates; a soak in the full run.
 * The hospital submits at a fixed rate (open loop) and follows its decisions; the insurer pulls with
 * follow, decides each record with the example rules, signs and submits the decision. Latency runs from
 * each record's scheduled submit to its verified decision being on disk for the HIS.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initExchange } from '../keys/exchange/init.js';
import { openPayload, sealPayload } from '../keys/formats/payload.js';
import { signJwt, verifyJwt } from '../keys/formats/jws.js';
import { generateEncryptionKey, generateSigningKey } from '../keys/jose-keys.js';
import type { GatewayBenchResult } from './settlement/gateway.js';
import type { HospitalBenchConfig, HospitalBenchResult } from './settlement/hospital.js';
import { CRYPTO_FLOOR, at, settlementLines, soakLines, sorted } from './settlement/lines.js';
import { sampleRss } from './settlement/rss.js';
import { sampleThreads } from './settlement/threads.js';
import { benchDir } from './scratch.js';
import { defaultSealWorkers } from '../gateway/seal/sealer.js';
import { postgresUrl } from './engines.js';
import { bundle } from '../scripts/bundle.mjs';
import type { BenchLine, BenchOptions } from './types.js';


export interface SettlementBenchRun {
  /** Records per second the hospital submits. */
  rate: number;
  seconds: number;
  warmup: number;
  /** Seal worker threads (default: the gateway's, one per core but one). */
  sealWorkers?: number;
  /** A long run read for memory: reports RSS at the start and end of the measured window, not the latencies. */
  soak?: boolean;
  /** The gateway's PostgreSQL database (libpq URL); SQLite's gateway.db when absent. */
  postgres?: string;
}

interface Party {
  child: ChildProcess;
  /** The party's 'ready' message. */
  ready: Promise<unknown>;
  result: Promise<unknown>;
}

/** HDX_BENCH_CPU_PROF=<dir>: each party writes a V8 CPU profile of each of its threads there (summary: bench/profile.ts). */
const PROFILE_DIR = process.env['HDX_BENCH_CPU_PROF'];
/** HDX_BENCH_NODE_FLAGS_<PARTY>='--flag …': extra node/V8 flags for one party (GATEWAY, HOSPITAL, INSURER), for A/B runs. */
const partyFlags = (module: string) => (process.env[`HDX_BENCH_NODE_FLAGS_${module.toUpperCase()}`] ?? '').split(' ').filter(Boolean);
/** HDX_BENCH_SEAL_WORKERS=<n>: the gateway's seal worker threads in every run (0: in-process), for A/B runs. */
const SEAL_WORKERS = process.env['HDX_BENCH_SEAL_WORKERS'] === undefined ? undefined : Number(process.env['HDX_BENCH_SEAL_WORKERS']);
/** HDX_BENCH_TSX=1: the parties run from source through tsx (as before the build), for comparison. */
const FROM_SOURCE = process.env['HDX_BENCH_TSX'] === '1';
const PARTIES = ['gateway', 'hospital', 'insurer'] as const;
let built: Promise<string> | undefined;

/** The parties run as the product does, from an esbuild bundle (scripts/bundle.mjs), built once per bench run. */
function partyBuild(): Promise<string> {
  built ??= (async () => {
    const out = join(benchDir(), `parties-${process.pid}`);
    await bundle(out, Object.fromEntries(PARTIES.map((p) => [p, `bench/settlement/${p}.ts`])));
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    return out;
  })();
  return built;
}

export async function startParty(module: (typeof PARTIES)[number], config: Record<string, unknown>): Promise<Party> {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, module)}`] : [];
  const namePool = ['--import', pathToFileURL(fileURLToPath(new URL('./settlement/name-pool.mjs', import.meta.url))).href];
  const entry = FROM_SOURCE ? fileURLToPath(new URL(`./settlement/${module}.ts`, import.meta.url)) : join(await partyBuild(), `${module}.mjs`);
  const child = fork(entry, [], {
    execArgv: [...(FROM_SOURCE ? ['--import', 'tsx'] : []), ...namePool, ...partyFlags(module), ...profile],
    env: { ...process.env, HDX_BENCH_PARTY: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready!: (m: unknown) => void;
  const readyP = new Promise<unknown>((resolve) => (ready = resolve));
  const result = new Promise((resolve, reject) => {
    child.on('message', (m: { type: string }) => (m.type === 'ready' ? ready(m) : resolve(m)));
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${module} process exited with ${code}`)));
  });
  return { child, ready: Promise.race([readyP, result.then(() => undefined)]), result };
}

export function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The cryptography one record needs on its way round, done back to back on one thread through hdx's own
 * JOSE path (keys/formats over node:crypto, as the parties and the gateway run it): the gateway seals (JWE)
 * and signs the envelope, the insurer opens it; signatures on submission, envelope, receipt and decision
 * (4), verified by the gateway (submission, receipt, decision), the insurer (envelope) and the hospital
 * (decision) (5). CPU ms (user + system, every thread) per record, median of 5 rounds of 40.
 */
export async function cryptoPerRecord(): Promise<number> {
  const payload = randomBytes(19 * 1024);
  const enc = generateEncryptionKey('ECDH-ES+A256KW', 'P-256');
  const sig = generateSigningKey('ES256');
  const jwks = { keys: [sig.publicJwk] };
  const claims = { iss: 'spiffe://hdx.local/gateway/gateway', aud: AUDIENCE, jti: 'trf-0001', iat: Math.floor(Date.now() / 1000), hdx: { payloadDigest: `sha256:${'A'.repeat(43)}` } };
  const jws = await signJwt(claims, sig.privateJwk, TYP);
  const one = async () => {
    await openPayload(await sealPayload(payload, enc.publicJwk), enc.privateJwk);
    for (let i = 0; i < 4; i++) await signJwt(claims, sig.privateJwk, TYP);
    for (let i = 0; i < 5; i++) await verifyJwt(jws, jwks, TYP, { audience: AUDIENCE });
  };
  for (let i = 0; i < 20; i++) await one();
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 40; i++) await one();
    const cpu = process.cpuUsage(start);
    rounds.push((cpu.user + cpu.system) / 1000 / 40);
  }
  return at(sorted(rounds), 0.5);
}

/** Offered rates of the sweep; the soak (full run only) holds SOAK_RATE for SOAK_SECONDS. */
const QUICK_RATES = [50, 200];
const FULL_RATES = [50, 100, 200, 400];
const SOAK_RATE = 100;
const SOAK_SECONDS = 300;
const TYP = 'hdx-bench+jwt';
const AUDIENCE = 'spiffe://hdx.local/insurer/bench';

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const seconds = options.quick ? 3 : 10;
  const warmup = options.quick ? 50 : 200;
  const crypto = await cryptoPerRecord();
  const lines: BenchLine[] = [
    {
      name: CRYPTO_FLOOR,
      value: crypto,
      unit: 'ms',
      note: "hdx's JOSE path (keys/formats) on one thread: 1 JWE seal + 1 open (P-256, 19 KB), 4 ES256 signs, 5 ES256 verifies; CPU ms per record",
    },
  ];
  const db = async () => {
    const postgres = await postgresUrl(options);
    return postgres ? { postgres } : {};
  };
  for (const rate of options.quick ? QUICK_RATES : FULL_RATES) lines.push(...(await runSettlementBench({ rate, seconds, warmup, ...(await db()) })));
  if (!options.quick) lines.push(...(await runSettlementBench({ rate: SOAK_RATE, seconds: SOAK_SECONDS, warmup, soak: true, ...(await db()) })));
  return lines;
}

/**
 * One run at one offered rate: a fresh exchange, the gateway, the insurer adapter and the hospital adapter
 * each in a process of its own; the hospital offers `rate` records/s open-loop after a warm-up.
 */
export async function runSettlementBench(options: SettlementBenchRun): Promise<BenchLine[]> {
  const run = SEAL_WORKERS === undefined || options.sealWorkers !== undefined ? options : { ...options, sealWorkers: SEAL_WORKERS };
  const { rate, seconds } = run;
  const count = Math.round(rate * seconds);
  const root = mkdtempSync(join(benchDir(), 'settle-'));
  const parties: ChildProcess[] = [];
  try {
    const exchange = await initExchange(join(root, 'exchange'));
    const gateway = await startParty('gateway', {
      gatewayDir: exchange.gateway.dir,
      dataDir: join(root, 'gateway-data'),
      ...(run.postgres !== undefined && { postgres: run.postgres }),
      ...(run.sealWorkers !== undefined && { sealWorkers: run.sealWorkers }),
    });
    parties.push(gateway.child);
    const address = `localhost:${((await gateway.ready) as { port: number }).port}`;
    const insurer = await startParty('insurer', {
      partyDir: join(exchange.dir, 'parties', 'taikang-online'),
      address,
      outDir: join(root, 'insurer-inbox'),
    });
    const config: HospitalBenchConfig = {
      partyDir: join(exchange.dir, 'parties', 'nanshan-people'),
      address,
      outDir: join(root, 'his'),
      rate,
      count,
      warmup: run.warmup,
      patients: 200,
    };
    const hospital = await startParty('hospital', { ...config });
    parties.push(insurer.child, hospital.child);
    await Promise.all([insurer.ready, hospital.ready]);
    const rss = { gateway: sampleRss(gateway.child.pid!), hospital: sampleRss(hospital.child.pid!), insurer: sampleRss(insurer.child.pid!) };
    // Per-thread CPU over each party's own window: from 'go' to the moment it reads its own CPU.
    const sampling = { gateway: sampleThreads(gateway.child.pid!), hospital: sampleThreads(hospital.child.pid!), insurer: sampleThreads(insurer.child.pid!) };
    gateway.child.send('go');
    hospital.child.send('go');
    const result = (await hospital.result) as HospitalBenchResult;
    sampling.hospital.stop();
    const measuredTo = Date.now();
    for (const sampler of Object.values(rss)) sampler.stop();
    insurer.child.send('stop');
    const insurerResult = (await insurer.result) as { cpuMs: number };
    sampling.insurer.stop();
    sampling.gateway.stop();
    const byParty = (from?: number) => ({
      gateway: sampling.gateway.groups(from),
      hospital: sampling.hospital.groups(from),
      insurer: sampling.insurer.groups(from),
    });
    // Whole window (warm-up included, as the per-party figures) and after warm-up (JIT mostly done).
    const threads = { all: byParty(), measured: byParty(result.measuredFrom) };
    gateway.child.send({ measuredFrom: result.measuredFrom });
    const gatewayResult = (await gateway.result) as GatewayBenchResult;
    // CPU per record, all threads of each process, warm-up included (every record sent after 'go').
    const records = run.warmup + count;
    const cpuPerRecord = {
      gateway: gatewayResult.cpuMs / records,
      insurer: insurerResult.cpuMs / records,
      hospital: result.cpuMs / records,
    };
    const cpuTotal = cpuPerRecord.gateway + cpuPerRecord.insurer + cpuPerRecord.hospital;
    const { commits } = gatewayResult;
    const gatewayLoop = {
      mainThreadCpu: gatewayResult.mainThreadCpuMs / records,
      commits: commits.batches / records,
      itemsPerCommit: commits.items / commits.batches,
      commitMs: (commits.seconds * 1000) / records,
    };
    const note = `${count} records offered at ${rate}/s for ${seconds} s, ${availableParallelism()} cores, seal workers ${run.sealWorkers ?? defaultSealWorkers()}; ${result.missing} missing, ${result.errors} errors`;
    if (run.soak) return soakLines(rate, rss.gateway, result.measuredFrom, measuredTo, note);
    return settlementLines({
      rate,
      note,
      result,
      rows: gatewayResult.rows,
      cpuPerRecord,
      cpuTotal,
      gatewayLoop,
      threads,
      records,
      measuredRecords: count,
      gatewayRssPeak: rss.gateway.peakMb(),
      partyRssPeak: { hospital: rss.hospital.peakMb(), insurer: rss.insurer.peakMb() },
      cores: availableParallelism(),
    });
  } finally {
    // A profile is written when its process exits on its own: give each party a moment to do so.
    if (PROFILE_DIR) await Promise.all(parties.map((child) => exited(child, 15_000)));
    for (const child of parties) if (child.exitCode === null) child.kill();
    rmSync(root, { recursive: true, force: true });
  }
}
