/**
 * Start-up time of the built CLI: `hdx --help` (bin/hdx.js → dist/) beside `node -e ''` on the same machine,
 * median of several runs, each a fresh process. Builds dist/ first, as `npm install` does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchLine, BenchOptions } from './types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function medianStartMs(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const runs = options.quick ? 3 : 15;
  const node = medianStartMs(['-e', ''], runs);
  const hdx = medianStartMs(['bin/hdx.js', '--help'], runs);
  return [
    { name: "node -e '' (floor)", value: node, unit: 'ms (median)', note: `${runs} runs` },
    { name: 'hdx --help (built CLI)', value: hdx, unit: 'ms (median)', floor: "node -e '' (floor)", target: '< 300 ms', meets: hdx < 300, note: `${runs} runs; ${(hdx - node).toFixed(0)} ms above node` },
  ];
}
