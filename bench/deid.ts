/**
 * De-identification throughput on one core (this thread): `claim-settlement` over the generator's
 * typical discharge bundle (about 20 resources), after a warm-up. The target is 3,000 bundles/s per
 * core. A SHA-256 figure is reported alongside so that a reading on a busy machine can be compared
 * with DESIGN.md §6 (≈ 210,000 SHA-256 of 4 KB per second on an idle core).
 */
import { createHash } from 'node:crypto';
import { createDeidentifier, type DataCategory, type DeidContext } from '../gateway/deid/index.js';
import { createGenerator } from '../synthetic/index.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const HOSPITAL = 'nanshan-people';
const CATEGORIES: DataCategory[] = ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges', 'notes'];
const WARMUP_MS = 1_000;
const MEASURE_MS = 3_000;

function context(purpose: DeidContext['purpose']): DeidContext {
  return {
    purpose,
    categories: CATEGORIES,
    pseudonym: '6b1f0d3e9a2c4b5d8e7f60a1b2c3d4e5',
    policyNumber: 'P2024-0000000001',
    keys: {
      cryptoHashKey: 'bench-crypto-hash-key',
      dateShiftKey: 'bench-date-shift-key',
      encryptKey: Buffer.alloc(32, 1).toString('base64'),
    },
    hospitalIdentifierSystems: [`https://${HOSPITAL}.hospital.hdx.local/mrn`, `https://${HOSPITAL}.hospital.hdx.local/visit`],
  };
}

/** Runs `step` repeatedly for `ms` and returns calls per second. */
function rate(step: (i: number) => void, ms: number): number {
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 50; i++) step(count++);
    now = performance.now();
  }
  return (count / (now - start)) * 1000;
}

async function yieldToLoop(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

export async function benchDeid(): Promise<BenchResult[]> {
  const deidentifier = createDeidentifier();
  const generator = createGenerator(20240601);
  const typical = Array.from({ length: 256 }, () => generator.dischargeRecord({ hospitalId: HOSPITAL }).bundle);
  const awkward = Array.from({ length: 256 }, () =>
    generator.dischargeRecord({ hospitalId: HOSPITAL, withNote: true, plantAwkwardIdentifiers: true }).bundle,
  );
  const claim = context('DIRECT_SETTLEMENT');
  const statistics = context('STATISTICS');
  const resources = typical.reduce((sum, bundle) => sum + bundle.entry.length, 0) / typical.length;

  const run = (bundles: unknown[], ctx: DeidContext) => (i: number) => {
    deidentifier.deidentify(bundles[i % bundles.length], ctx);
  };
  rate(run(typical, claim), WARMUP_MS);
  const claimRate = rate(run(typical, claim), MEASURE_MS);
  await yieldToLoop();
  rate(run(awkward, claim), WARMUP_MS / 2);
  const awkwardRate = rate(run(awkward, claim), MEASURE_MS);
  await yieldToLoop();
  rate(run(typical, statistics), WARMUP_MS / 2);
  const statisticsRate = rate(run(typical, statistics), MEASURE_MS);
  await yieldToLoop();
  const block = Buffer.alloc(4096, 7);
  const shaRate = rate(() => createHash('sha256').update(block).digest(), 1_000);

  return [
    { name: `deid claim-settlement, typical bundle (${resources.toFixed(1)} resources), one core`, value: Math.round(claimRate), unit: 'bundles/s', target: '>= 3000' },
    { name: 'deid claim-settlement, with note and planted identifiers (scrubbing)', value: Math.round(awkwardRate), unit: 'bundles/s' },
    { name: 'deid statistics, typical bundle', value: Math.round(statisticsRate), unit: 'bundles/s' },
    { name: 'calibration: SHA-256 of 4 KB on this core', value: Math.round(shaRate), unit: 'ops/s', target: '≈ 210000 on an idle core (DESIGN §6)' },
  ];
}

// `npx tsx bench/deid.ts` runs it on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const result of await benchDeid()) {
    console.log(`${result.name}: ${result.value} ${result.unit}${result.target !== undefined ? ` (target ${result.target})` : ''}`);
  }
}
