/**
 * `npm run fuzz [-- --seed N --protobuf N --bundles N]`: the full seeded fuzz run against a real gateway
 * (see fuzz.ts) — by default 12,000 inputs. Prints the statuses seen per method and the RSS before and
 * after; exits 1 on any INTERNAL/UNKNOWN, hang, crash, echo of input, or RSS growth beyond the bound.
 */
import { parseArgs } from 'node:util';
import { createTestExchange } from '../support/harness.js';
import { runFuzz, statusTable } from './fuzz.js';

/** RSS may grow this much between the end of warm-up and the end (caches filling, SQLite pages). */
const MAX_RSS_GROWTH_MB = 256;

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '20261202' },
    protobuf: { type: 'string', default: '9000' },
    bundles: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
  },
});

const ex = await createTestExchange();
const started = performance.now();
try {
  const report = await runFuzz(
    ex,
    { seed: Number(values.seed), protobufInputs: Number(values.protobuf), bundleInputs: Number(values.bundles), concurrency: Number(values.concurrency) },
    (done, total) => process.stderr.write(`\r${done}/${total}`),
  );
  process.stderr.write('\n');
  const growth = report.rssMb.end - report.rssMb.warm;
  if (growth > MAX_RSS_GROWTH_MB) report.failures.push(`RSS grew ${growth} MB after warm-up (bound ${MAX_RSS_GROWTH_MB} MB)`);
  console.log(`hdx fuzz: seed ${values.seed}, ${report.inputs} inputs in ${Math.round((performance.now() - started) / 1000)} s`);
  console.log(statusTable(report));
  console.log(`RSS after warm-up ${report.rssMb.warm} MB, at the end ${report.rssMb.end} MB (growth ${growth} MB, bound ${MAX_RSS_GROWTH_MB} MB)`);
  const distinct = [...new Set(report.failures)];
  if (distinct.length > 0) {
    console.log(`FAILED: ${report.failures.length} failures, ${distinct.length} distinct:`);
    for (const failure of distinct.slice(0, 40)) console.log(`  ${failure}`);
    process.exitCode = 1;
  } else {
    console.log('OK: no INTERNAL or UNKNOWN, no hang, no crash, nothing echoed');
  }
} finally {
  ex.cleanup();
}
