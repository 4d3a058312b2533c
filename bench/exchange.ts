/**
 * The product's main figure: discharge records per second through the real stack — a hospital client
 * over mutual-TLS gRPC, the gateway validating, matching consent, de-identifying, sealing (JWE) and
 * signing (JWS) in its worker pool, and committing durably (group commit: SQLite at synchronous=FULL, or
 * PostgreSQL with synchronous_commit on, per `options.store`) — then the insurer's pull, verify, decrypt
 * and acknowledge rate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startGateway } from '../gateway/server.js';
import { ADJUDICATION_CATEGORIES, grantConsent } from '../hospital-adapter/consent.js';
import { openHospitalSession } from '../hospital-adapter/session.js';
import { submitBundle } from '../hospital-adapter/submit.js';
import { pullTransfers } from '../insurer-adapter/pull.js';
import { openInsurerSession } from '../insurer-adapter/session.js';
import { initExchange } from '../keys/exchange/init.js';
import { Purpose } from '../proto/gen/hdx/v1/common.js';
import { createGenerator } from '../synthetic/index.js';
import { postgresUrl } from './engines.js';
import { FLOOR_GRPC_MTLS } from './system-floors.js';
import type { BenchLine, BenchOptions } from './types.js';

const DAY = 86_400_000;

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const count = options.quick ? 200 : 1500;
  const root = mkdtempSync(join(tmpdir(), 'hdx-bench-'));
  try {
    const exchange = await initExchange(join(root, 'exchange'));
    const postgres = await postgresUrl(options);
    const gateway = await startGateway({
      gatewayDir: exchange.gateway.dir,
      ...(postgres && { postgres }),
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
    });
    const address = `localhost:${gateway.port}`;
    const hospital = await openHospitalSession(join(exchange.dir, 'parties', 'nanshan-people'), address);
    const insurer = await openInsurerSession(join(exchange.dir, 'parties', 'taikang-online'), address);
    try {
      const gen = createGenerator(42);
      const records = Array.from({ length: count + 50 }, () =>
        gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - DAY) }),
      );
      let i = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (i < records.length) {
            const r = records[i++]!;
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
      // Warm the worker pool and code paths.
      await Promise.all(payloads.slice(count).map((p) => submitBundle(hospital, p)));
      let next = 0;
      const latencies: number[] = [];
      const start = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < count) {
            const p = payloads[next++]!;
            const t0 = performance.now();
            await submitBundle(hospital, p);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const submitSeconds = (performance.now() - start) / 1000;
      const pullStart = performance.now();
      const pulled = await pullTransfers(insurer, { outDir: join(root, 'inbox') });
      const pullSeconds = (performance.now() - pullStart) / 1000;
      latencies.sort((a, b) => a - b);
      const kb = payloads.reduce((a, p) => a + p.length, 0) / payloads.length / 1024;
      return [
        {
          name: 'exchange: submit → consent → de-id → JWE → JWS → durable commit',
          value: count / submitSeconds,
          unit: 'records/s',
          floor: FLOOR_GRPC_MTLS,
          note: `${count} records of ~${kb.toFixed(1)} KB, 32 in flight, ${gateway.gateway.settings ? 'seal pool = cores' : ''}`.trim(),
        },
        { name: 'exchange: submit latency at that load (median)', value: latencies[Math.floor(latencies.length / 2)]!, unit: 'ms' },
        { name: 'exchange: submit latency at that load (p99)', value: latencies[Math.floor(latencies.length * 0.99)]!, unit: 'ms' },
        {
          name: 'exchange: insurer pull → verify → decrypt → write → ack',
          value: pulled.filter((o) => o.ok).length / pullSeconds,
          unit: 'records/s',
          note: 'one insurer adapter, sequential acknowledgements',
        },
      ];
    } finally {
      hospital.close();
      insurer.close();
      await gateway.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
