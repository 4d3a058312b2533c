/**
 * Vitest global setup: the CLI tests run `bin/hdx.js` as users do, which runs the build in dist/. Rebuild it
 * when any source is newer than the last build, under a folder lock so that parallel runs build once.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lockFolder } from '../../cli/runtime/folder-lock.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCES = ['cli', 'compliance', 'demo', 'gateway', 'hospital-adapter', 'insurer-adapter', 'keys', 'profile', 'proto', 'synthetic', 'scripts'];

export function setup(): void {
  const lock = lockFolder(ROOT, 'vitest global setup (build dist/)', { waitMs: 600_000 });
  try {
    if (builtAt() < newestSource()) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  } finally {
    lock.release();
  }
}

function builtAt(): number {
  try {
    return statSync(join(ROOT, 'dist', 'BUILT')).mtimeMs;
  } catch {
    return 0;
  }
}

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCES) walk(join(ROOT, dir));
  return newest;
}
