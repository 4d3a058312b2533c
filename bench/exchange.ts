/**
 * The product's main figure: discharge records per second through the real stack. The gateway runs in a
 * process of its own (the settlement bench's gateway party, from the same esbuild bundle), so its CPU is
 * its own; this process is the hospital client, then the insurer. Each record is validated, matched to
 * consent, de-identified, sealed (JWE) and signed (JWS) in the gateway's worker pool, and committed durably
 * (group commit: SQLite's WAL fdatasync'd, or PostgreSQL with synchronous_commit on, per `options.store`)
 * before its receipt is answered. Two ways in, as the product has them: unary `SubmitRecord` with 32 calls
 * in flight, and one `SubmitRecords` stream (`hdx hospital submit --stream`, the daemon's backlog) with a
 * window of 256. Then one insurer adapter pulls, verifies, decrypts, writes and acknowledges them all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADJUDICATION_CATEGORIES, grantConsent } from '../hospital-adapter/consent.js';
import { openHospitalSession } from '../hospital-adapter/session.js';
import { submitBundle, submitFilesStreamed } from '../hospital-adapter/submit.js';
import { pullTransfers } from '../insurer-adapter/pull.js';
import { openInsurerSession } from '../insurer-adapter/session.js';
import { initExchange } from '../keys/exchange/init.js';
import { Purpose } from '../proto/gen/hdx/v1/common.js';
import { createGenerator } from '../synthetic/index.js';
import { postgresUrl } from './engines.js';
import { cpuSince, processCpuMs } from './proc-cpu.js';
import { benchDir } from './scratch.js';
import { exited, startParty } from './settlement.js';
import { FLOOR_GRPC_MTLS } from './system-floors.js';
import type { BenchLine, BenchOptions } from './types.js';

const DAY = 86_400_000;
const UNARY_IN_FLIGHT = 32;
const STREAM_WINDOW = 256;
const WARMUP = 50;

/** The exchange's target (issue 11): submit → durable receipt, sustained. */
const EXCHANGE_TARGET = 1000;

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const count = options.quick ? 400 : 2000;
  const root = mkdtempSync(join(benchDir(), 'exchange-'));
  try {
    const exchange = await initExchange(join(root, 'exchange'));
    const postgres = await postgresUrl(options);
    const gateway = await startParty('gateway', {
      gatewayDir: exchange.gateway.dir,
      dataDir: join(root, 'gateway-data'),
      ...(postgres !== undefined && { postgres }),
    });
    const gatewayPid = gateway.child.pid!;
    try {
      const address = `localhost:${((await gateway.ready) as { port: number }).port}`;
      gateway.child.send('go');
      const hospital = await openHospitalSession(join(exchange.dir, 'parties', 'nanshan-people'), address);
      const insurer = await openInsurerSession(join(exchange.dir, 'parties', 'taikang-online'), address);
      try {
        const gen = createGenerator(42);
        const records = Array.from({ length: WARMUP + 2 * count }, () =>
          gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - DAY) }),
        );
        let g = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (g < records.length) {
              const r = records[g++]!;
              await grantConsent(hospital, {
                idempotencyKey: `bench-grant-${r.patient.nationalId}`,
                patientNationalId: r.patient.nationalId,
                terms: {
                  insurerId: 'taikang-online',
                  policyNumber: 'POL-BENCH-1',
                  purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
                  categories: [...ADJUDICATION_CATEGORIES],
                  hospitalIds: ['nanshan-people'],
                  anyHospital: false,
                  validFrom: new Date(Date.now() - 30 * DAY),
                  validUntil: new Date(Date.now() + 30 * DAY),
                  capture: { channel: 'bench', capturedAt: new Date(), noticeVersion: 'v1', formDigest: `sha256:${'B'.repeat(43)}` },
                },
              });
            }
          }),
        );
        const payloads = records.map((r) => Buffer.from(JSON.stringify(r.bundle)));
        const warm = payloads.slice(0, WARMUP);
        const unary = payloads.slice(WARMUP, WARMUP + count);
        // The streamed ones go from files, as `hdx hospital submit --stream` reads them.
        const outbox = join(root, 'outbox');
        mkdirSync(outbox);
        const files = payloads.slice(WARMUP + count).map((p, i) => {
          const file = join(outbox, `${String(i).padStart(6, '0')}.json`);
          writeFileSync(file, p);
          return file;
        });
        await Promise.all(warm.map((p) => submitBundle(hospital, p)));

        // Unary: 32 calls in flight.
        const latencies: number[] = [];
        let next = 0;
        let phase = measure(gatewayPid);
        await Promise.all(
          Array.from({ length: UNARY_IN_FLIGHT }, async () => {
            while (next < unary.length) {
              const p = unary[next++]!;
              const t0 = performance.now();
              await submitBundle(hospital, p);
              latencies.push(performance.now() - t0);
            }
          }),
        );
        const unaryRun = phase.end(count);

        // Streamed: one SubmitRecords stream.
        phase = measure(gatewayPid);
        const streamed = await submitFilesStreamed(hospital, files, { window: STREAM_WINDOW });
        const streamRun = phase.end(count);
        const refused = streamed.filter((o) => !o.ok).length;

        // The insurer pulls everything (warm-up included) and acknowledges it.
        phase = measure(gatewayPid);
        const pulled = await pullTransfers(insurer, { outDir: join(root, 'inbox') });
        const pulledOk = pulled.filter((o) => o.ok).length;
        const pullRun = phase.end(pulledOk);

        latencies.sort((a, b) => a - b);
        const kb = payloads.reduce((a, p) => a + p.length, 0) / payloads.length / 1024;
        const cpuNote = (run: PhaseResult, client: string) =>
          `per record: gateway ${run.gatewayMs.toFixed(2)} ms CPU (event loop ${run.gatewayLoopMs.toFixed(2)}), ${client} ${run.clientMs.toFixed(2)} ms`;
        return [
          {
            name: 'exchange: submit → consent → de-id → JWE → JWS → durable commit, SubmitRecords stream',
            value: streamRun.rate,
            unit: 'records/s',
            target: `>= ${EXCHANGE_TARGET} records/s`,
            meets: streamRun.rate >= EXCHANGE_TARGET && refused === 0,
            floor: FLOOR_GRPC_MTLS,
            note: `${count} records of ~${kb.toFixed(1)} KB, window ${STREAM_WINDOW}, ${refused} refused; ${cpuNote(streamRun, 'hospital')}`,
          },
          {
            name: 'exchange: submit → consent → de-id → JWE → JWS → durable commit, unary SubmitRecord',
            value: unaryRun.rate,
            unit: 'records/s',
            floor: FLOOR_GRPC_MTLS,
            note: `${count} records, ${UNARY_IN_FLIGHT} in flight; ${cpuNote(unaryRun, 'hospital')}`,
          },
          { name: 'exchange: unary submit latency at that load (median)', value: at(latencies, 0.5), unit: 'ms' },
          { name: 'exchange: unary submit latency at that load (p99)', value: at(latencies, 0.99), unit: 'ms' },
          { name: 'exchange: gateway CPU per record, SubmitRecords stream', value: streamRun.gatewayMs, unit: 'ms', note: `event-loop thread ${streamRun.gatewayLoopMs.toFixed(2)} ms` },
          {
            name: 'exchange: insurer pull → verify → decrypt → write → ack',
            value: pullRun.rate,
            unit: 'records/s',
            note: `${pulledOk} of ${payloads.length} transfers, one insurer adapter; ${cpuNote(pullRun, 'insurer')}`,
          },
        ];
      } finally {
        hospital.close();
        insurer.close();
      }
    } finally {
      gateway.child.send({ measuredFrom: Date.now() });
      // Let it exit by itself (it writes its CPU profile then, under HDX_BENCH_CPU_PROF); kill it only if it hangs.
      await Promise.race([gateway.result.catch(() => undefined), exited(gateway.child, 30_000)]);
      await exited(gateway.child, 30_000);
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

interface PhaseResult {
  rate: number;
  gatewayMs: number;
  gatewayLoopMs: number;
  clientMs: number;
}

/** Wall time and CPU (the gateway process from /proc, this process — the client — from cpuUsage) of one phase. */
function measure(gatewayPid: number) {
  const t0 = performance.now();
  const gatewayFrom = processCpuMs(gatewayPid);
  const clientFrom = process.cpuUsage();
  return {
    end(records: number): PhaseResult {
      const seconds = (performance.now() - t0) / 1000;
      const gw = cpuSince(gatewayPid, gatewayFrom);
      const client = process.cpuUsage(clientFrom);
      return {
        rate: records / seconds,
        gatewayMs: gw.all / records,
        gatewayLoopMs: gw.main / records,
        clientMs: (client.user + client.system) / 1000 / records,
      };
    },
  };
}

function at(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}
