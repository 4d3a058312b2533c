/**
 * `npm run bench [-- --quick] [-- --only name,name]`: runs each benchmark and prints its figures beside
 * the floors measured in the same run (with each figure's ratio to the floor it names) and the targets
 * from the issues, then writes bench/results/ (see results.ts; a run with --only writes only its modules,
 * and says so in the file). Performance targets live here, never in timed unit tests.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { relative } from 'node:path';
import { machine, withFloors, writeResults, type ResultLine } from './results.js';
import type { BenchLine, BenchModule } from './types.js';

const MODULES = ['floors', 'system-floors', 'crypto', 'startup', 'deid', 'exchange', 'audit', 'settlement', 'limits'] as const;

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
  const date = new Date().toISOString();
  const failed: string[] = [];
  const all: ResultLine[] = [];
  for (const name of MODULES) {
    if (only && !only.has(name)) continue;
    const mod = await load(name);
    if (!mod) continue;
    process.stdout.write(`── ${name}\n`);
    try {
      for (const line of await mod.bench({ quick })) {
        all.push({ module: name, ...line });
        const verdict = line.meets === undefined ? '' : line.meets ? '  ✓' : '  ✗ below target';
        process.stdout.write(
          `  ${line.name.padEnd(62)} ${format(line.value).padStart(10)} ${line.unit.padEnd(12)}${line.target ? ` target ${line.target}` : ''}${verdict}${line.note ? `  (${line.note})` : ''}\n`,
        );
      }
    } catch (error) {
      failed.push(name);
      process.stdout.write(`  failed: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.stdout.write('\n');
  }
  const lines = withFloors(all);
  const against = lines.filter((l) => l.ratio !== undefined);
  if (against.length > 0) {
    process.stdout.write('── against the floors (figure / floor, same run)\n');
    for (const l of against) process.stdout.write(`  ${l.name.padEnd(62)} ${l.ratio!.toFixed(2).padStart(8)}×  of ${l.floor}\n`);
    process.stdout.write('\n');
  }
  const results = { date, quick, ...(only && { only: [...only] }), machine: machine(loadStart), failures: failed, lines };
  for (const file of writeResults(results)) process.stdout.write(`wrote ${relative(process.cwd(), file)}\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

void main();
