/**
 * `npm run bench [-- --quick] [-- --only name,name]`: runs each benchmark and prints its figures beside
 * the floors measured in the same run and the targets from the issues. Performance targets live here,
 * never in timed unit tests.
 */
import { existsSync } from 'node:fs';
import type { BenchLine, BenchModule } from './types.js';

const MODULES = ['floors', 'crypto', 'startup', 'deid', 'exchange', 'audit', 'settlement'] as const;

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
  process.stdout.write(`hdx bench — node ${process.version}, ${(await import('node:os')).availableParallelism()} cores${quick ? ', quick' : ''}\n\n`);
  let failures = 0;
  for (const name of MODULES) {
    if (only && !only.has(name)) continue;
    const mod = await load(name);
    if (!mod) continue;
    process.stdout.write(`── ${name}\n`);
    try {
      for (const line of await mod.bench({ quick })) {
        const verdict = line.meets === undefined ? '' : line.meets ? '  ✓' : '  ✗ below target';
        process.stdout.write(
          `  ${line.name.padEnd(62)} ${format(line.value).padStart(10)} ${line.unit.padEnd(12)}${line.target ? ` target ${line.target}` : ''}${verdict}${line.note ? `  (${line.note})` : ''}\n`,
        );
      }
    } catch (error) {
      failures += 1;
      process.stdout.write(`  failed: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.stdout.write('\n');
  }
  process.exitCode = failures > 0 ? 1 : 0;
}

void main();
