/**
 * The seeded fuzzer in small (see fuzz.ts; `npm run fuzz` runs 12,000 inputs): a few hundred mutated
 * protobuf requests over every method and mutated or hostile bundles, against a real gateway over mutual
 * TLS with a seal worker — no INTERNAL or UNKNOWN, no hang, no crash, nothing echoed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { METHODS } from '../support/raw-call.js';
import { runFuzz, statusTable } from './fuzz.js';

let ex: TestExchange;
beforeAll(async () => {
  ex = await createTestExchange();
});
afterAll(() => ex?.cleanup());

it('a few hundred seeded hostile inputs get clear statuses and echo nothing', async () => {
  const report = await runFuzz(ex, { seed: 7, protobufInputs: METHODS.length * 12, bundleInputs: 80, concurrency: 4 });
  expect(report.failures, statusTable(report)).toEqual([]);
  // Every method was reached, and the bundles too.
  const methods = METHODS.map((m) => m.path.split('/').pop()!);
  expect([...report.statuses.keys()].sort()).toEqual([...methods, 'SubmitRecord (bundle)'].sort());
  expect(report.inputs).toBe(METHODS.length * 12 + 80);
});
