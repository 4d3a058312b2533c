/**
 * `npm run bench [-- --quick] [-- --only name,name] [-- --store sqlite,postgres]`: runs each benchmark and prints its figures beside
 * the floors measured in the same run (with each figure's ratio to the floor it names) and the targets
 * from the issues, then writes bench/results/ (see results.ts; a run with --only writes only its modules,
 * and says so in the file). The modules that run a gateway (ENGINE_MODULES) run once per storage engine
 * (bench/engines.ts), each line tagged with its engine, and the two engines' figures are printed side by
 * side at the end. Performance targets live here, never in timed unit tests.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { relative } from 'node:path';
import type { Engine } from '../gateway/storage/store.js';
import { setup as buildDistIfStale } from '../test/support/build-dist.js';
import { benchCluster, chooseEngines } from './engines.js';
import { machine, withFloors, writeResults, type ResultLine } from './results.js';
import type { BenchLine, BenchModule } from './types.js';

const MODULES = ['floors', 'system-floors', 'crypto', 'startup', 'deid', 'exchange', 'audit', 'settlement', 'limits'] as const;
/** The modules whose figures depend on the storage engine: run once per engine. */
const ENGINE_MODULES = new Set(['exchange', 'settlement']);

async function load(name: string): Promise<BenchModule | undefined> {
  const file = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(file)) return undefined;
  const mod = (await import(file.href)) as Partial<BenchModule> & { benchDeid?: () => Promise<BenchLine[]> };
  if (mod.bench) return mod as BenchModule;
  if (mod.benchDeid) return { bench: () => mod.benchDeid!() };
  return undefined;
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set(args[onlyIndex + 1]?.split(',')) : undefined;
  const loadStart = loadavg();
  const host = machine(loadStart);
  process.stdout.write(`hdx bench — node ${host.node}, ${host.cpus} × ${host.model}, load ${loadStart.map((l) => l.toFixed(2)).join(' ')}${quick ? ', quick' : ''}\n\n`);
  // The audit and start-up benches run `bin/hdx.js`, i.e. dist/: a build older than the sources would
  // bench old code (or fail on a method it lacks), so rebuild it as the test suite's setup does.
  buildDistIfStale();
  const storeIndex = args.indexOf('--store');
  const { engines, warning } = chooseEngines(storeIndex >= 0 ? (args[storeIndex + 1] ?? '') : undefined);
  if (warning) process.stdout.write(`${warning}\n\n`);
  const cluster = benchCluster();
  const postgres = engines.includes('postgres') ? { postgresDatabase: () => cluster.database() } : {};
  const date = new Date().toISOString();
  const failed: string[] = [];
  const all: ResultLine[] = [];
  try {
    for (const name of MODULES) {
      if (only && !only.has(name)) continue;
      const mod = await load(name);
      if (!mod) continue;
      for (const store of ENGINE_MODULES.has(name) ? engines : (['sqlite'] as Engine[])) {
        const engine = ENGINE_MODULES.has(name);
        process.stdout.write(`── ${name}${engine ? ` (${store})` : ''}\n`);
        try {
          for (const measured of await mod.bench({ quick, store, ...postgres })) {
            const line = engine ? tagged(measured, store) : measured;
            all.push({ module: name, ...line });
            const verdict = line.meets === undefined ? '' : line.meets ? '  ✓' : '  ✗ below target';
            process.stdout.write(
              `  ${line.name.padEnd(62)} ${format(line.value).padStart(10)} ${line.unit.padEnd(12)}${line.target ? ` target ${line.target}` : ''}${verdict}${line.note ? `  (${line.note})` : ''}\n`,
            );
          }
        } catch (error) {
          failed.push(engine ? `${name} (${store})` : name);
          process.stdout.write(`  failed: ${(error as Error)?.stack ?? String(error)}\n`);
        }
        process.stdout.write('\n');
      }
    }
  } finally {
    await cluster.stop();
  }
  if (engines.length > 1) printSideBySide(all);
  const lines = withFloors(all);
  const against = lines.filter((l) => l.ratio !== undefined);
  if (against.length > 0) {
    process.stdout.write('── against the floors (figure / floor, same run)\n');
    for (const l of against) process.stdout.write(`  ${label(l).padEnd(74)} ${l.ratio!.toFixed(2).padStart(8)}×  of ${l.floor}\n`);
    process.stdout.write('\n');
  }
  const results = { date, quick, stores: engines, ...(only && { only: [...only] }), machine: machine(loadStart), failures: failed, lines };
  for (const file of writeResults(results)) process.stdout.write(`wrote ${relative(process.cwd(), file)}\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

/** A per-engine line: its engine named, and its chart series kept apart from the other engine's. */
function tagged(line: BenchLine, store: Engine): BenchLine {
  return { ...line, store, ...(line.chart && { chart: { ...line.chart, series: `${line.chart.series} · ${store}` } }) };
}

const label = (l: BenchLine) => (l.store ? `${l.name} [${l.store}]` : l.name);

/** Each per-engine figure measured on both engines, on one row. */
function printSideBySide(lines: ResultLine[]): void {
  const postgres = new Map(lines.filter((l) => l.store === 'postgres').map((l) => [`${l.module}\0${l.name}`, l]));
  const rows = lines.filter((l) => l.store === 'sqlite' && postgres.has(`${l.module}\0${l.name}`));
  if (rows.length === 0) return;
  process.stdout.write(`── engines side by side${' '.repeat(42)}${'sqlite'.padStart(10)} ${'postgres'.padStart(10)}\n`);
  for (const l of rows) {
    const p = postgres.get(`${l.module}\0${l.name}`)!;
    process.stdout.write(`  ${l.name.padEnd(62)} ${format(l.value).padStart(10)} ${format(p.value).padStart(10)} ${l.unit}\n`);
  }
  process.stdout.write('\n');
}

void main();
