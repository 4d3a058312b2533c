/**
 * `npx tsx bench/profile.ts <dir or .cpuprofile files> [--top N]`: what a V8 CPU profile (node --cpu-prof)
 * spent its samples on — self time by function and by where the code lives (our source folder, a package,
 * node internals, the garbage collector, idle) — one table per profile, biggest first.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function files(args: string[]): string[] {
  return args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f))
      : [a],
  );
}

/** Where a frame's code lives: a package, our top-level folder, node internals, or V8's own entries. */
function area(url: string, name: string): string {
  if (!url) return `(${name || 'anonymous'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const ours = /\/(gateway|keys|hospital-adapter|insurer-adapter|compliance|bench|proto|synthetic|cli|dist)\/(?:([^/]+)\/)?/.exec(url);
  if (ours) return ours[2] && !ours[2].includes('.') ? `${ours[1]}/${ours[2]}` : ours[1]!;
  return url;
}

function summarise(file: string, top: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isOurs = (url: string) => url !== '' && !url.includes('node_modules') && !url.startsWith('node:');
  /** Each sample charged to the innermost frame of our own code on its stack (library time included). */
  const ours = new Map<string, number>();
  const fn = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|wt\/[^/]+|main)\//, '')}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    let at: number | undefined = id;
    while (at !== undefined && !isOurs(byId.get(at)!.callFrame.url)) at = parent.get(at);
    const o = at === undefined ? '(no frame of ours)' : `${byId.get(at)!.callFrame.functionName || '(anonymous)'} ${byId.get(at)!.callFrame.url.replace(/^.*\//, '')}`;
    ours.set(o, (ours.get(o) ?? 0) + us);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  process.stdout.write(`\n${file}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle\n  by area:\n`);
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${a}\n`);
  process.stdout.write('  by our innermost function (library time included):\n');
  for (const [k, us] of [...ours].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
  process.stdout.write('  by function (self):\n');
  for (const [k, us] of [...fn].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
for (const f of files(args)) summarise(f, top);
