/**
 * The hospital's side of the settlement bench, in its own process (as on its own machine): grants consents, then submits discharge
 * records at a fixed rate (open loop: each at its scheduled time, whether or not earlier ones are done)
 * while following its decisions, and measures each record's time from its scheduled submit to its
 * verified decision being on disk for the HIS.
 */
import { partyChannel } from './channel.js';
import { ADJUDICATION_CATEGORIES, grantConsent } from '../../hospital-adapter/consent.js';
import { followDecisions } from '../../hospital-adapter/decisions.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import { createGenerator } from '../../synthetic/index.js';

export interface HospitalBenchConfig {
  partyDir: string;
  address: string;
  outDir: string;
  rate: number;
  count: number;
  warmup: number;
  patients: number;
}

export interface HospitalBenchResult {
  type: 'result';
  /** Scheduled submit → decision on disk, ms, for the measured records. */
  latencies: number[];
  /** Scheduled submit → submit response, ms. */
  submitLatencies: number[];
  /** How far behind schedule submissions were sent, ms (the load generator's own lag). */
  sendLag: number[];
  errors: number;
  missing: number;
  /** From the first scheduled submit to the last decision on disk. */
  seconds: number;
  measuredFrom: number;
  outcomes: Record<string, number>;
  /** This process's CPU (all threads, user + system) from 'go' to the end, ms. */
  cpuMs: number;
}

const DAY = 86_400_000;
const trace = (what: string) => process.env['HDX_BENCH_TRACE'] && process.stderr.write(`[hospital ${new Date().toISOString()}] ${what}\n`);
const port = partyChannel();
const config = port.config as unknown as HospitalBenchConfig;
const session = await openHospitalSession(config.partyDir, config.address);
const gen = createGenerator(20260501);

trace('session open');
// One consent per patient; their stays are submitted in turn.
const patients = Array.from({ length: config.patients }, () => gen.dischargeRecord({ hospitalId: 'nanshan-people' }).patient);
let g = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (g < patients.length) {
      const patient = patients[g++]!;
      await grantConsent(session, {
        idempotencyKey: `bench-settle-${patient.nationalId}`,
        patientNationalId: patient.nationalId,
        terms: {
          insurerId: 'taikang-online',
          policyNumber: 'POL-BENCH-2',
          purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
          categories: [...ADJUDICATION_CATEGORIES],
          hospitalIds: ['nanshan-people'],
          anyHospital: false,
          validFrom: new Date(Date.now() - 30 * DAY),
          validUntil: new Date(Date.now() + 30 * DAY),
          capture: { channel: 'bench', capturedAt: new Date(), noticeVersion: 'v1', formDigest: `sha256:${'S'.repeat(43)}` },
        },
      });
    }
  }),
);
trace('consents granted');
const total = config.warmup + config.count;
const makeBundle = (i: number) =>
  Buffer.from(
    JSON.stringify(gen.dischargeRecord({ hospitalId: 'nanshan-people', patient: patients[i % patients.length]!, dischargeDate: new Date(Date.now() - DAY) }).bundle),
  );
// Made ahead, so making them costs the sends nothing; a soak's records past PREPARED (each ~19 KB) are
// made as they are sent, in order, and dropped once sent, so its memory stays flat.
const PREPARED = 5_000;
const bundles = Array.from({ length: Math.min(total, PREPARED) }, (_, i) => makeBundle(i));
const bundleAt = (i: number) => bundles[i] ?? makeBundle(i);

// submission id → scheduled send time; decision arrival per submission id.
const scheduled = new Map<string, number>();
const arrived = new Map<string, number>();
const outcomes: Record<string, number> = {};
let waiter: (() => void) | undefined;
const abort = new AbortController();
const following = followDecisions(session, {
  outDir: config.outDir,
  follow: true,
  signal: abort.signal,
  onDecision: (e) => {
    if (!e.ok) return;
    arrived.set(e.decision.submissionId, performance.now());
    outcomes[e.decision.claims.hdx.outcome] = (outcomes[e.decision.claims.hdx.outcome] ?? 0) + 1;
    waiter?.();
  },
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `bundles[from..to)` at `rate`/s; resolves with the submission ids once every response is in. */
async function sendAt(from: number, to: number, measure: HospitalBenchResult) {
  const interval = 1000 / config.rate;
  const start = performance.now();
  const pending: Array<Promise<string | undefined>> = [];
  for (let i = from; i < to; i++) {
    const due = start + (i - from) * interval;
    const delay = due - performance.now();
    if (delay > 1) await wait(delay);
    measure.sendLag.push(Math.max(0, performance.now() - due));
    pending.push(
      submitBundle(session, bundleAt(i)).then(
        (r) => {
          scheduled.set(r.submissionId, due);
          measure.submitLatencies.push(performance.now() - due);
          return r.submissionId;
        },
        () => {
          measure.errors += 1;
          return undefined;
        },
      ),
    );
  }
  const ids = (await Promise.all(pending)).filter((id): id is string => id !== undefined);
  return { ids, start };
}

async function untilDecided(ids: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (ids.some((id) => !arrived.has(id)) && performance.now() < deadline) {
    await Promise.race([new Promise<void>((resolve) => (waiter = resolve)), wait(100)]);
  }
}

trace('records generated');
port.send({ type: 'ready' });
await port.next();
const cpuFrom = process.cpuUsage();

const result: HospitalBenchResult = { type: 'result', latencies: [], submitLatencies: [], sendLag: [], errors: 0, missing: 0, seconds: 0, measuredFrom: 0, outcomes, cpuMs: 0 };
const warm = await sendAt(0, config.warmup, { ...result, submitLatencies: [], sendLag: [], latencies: [] });
trace('warm-up sent');
await untilDecided(warm.ids, 30_000);
trace('warm-up decided');
for (const k of Object.keys(outcomes)) delete outcomes[k];

result.measuredFrom = Date.now();
const measured = await sendAt(config.warmup, total, result);
trace('measured sent');
await untilDecided(measured.ids, 60_000);
let last = measured.start;
for (const id of measured.ids) {
  const at = arrived.get(id);
  if (at === undefined) result.missing += 1;
  else {
    result.latencies.push(at - scheduled.get(id)!);
    last = Math.max(last, at);
  }
}
result.seconds = (last - measured.start) / 1000;
trace('measured decided');
abort.abort();
await following;
trace('stopped');
session.close();
const cpu = process.cpuUsage(cpuFrom);
result.cpuMs = (cpu.user + cpu.system) / 1000;
port.finish(result);
