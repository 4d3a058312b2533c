#!/usr/bin/env node
/**
 * Builds the `hdx` CLI into dist/ with esbuild (run by `npm install` through the `prepare` script, and by
 * the test suite's global setup when dist is older than the sources). Node packages stay external (loaded
 * from node_modules as usual); our TypeScript is bundled, with code splitting so that a command loads the
 * heavy parts (gateway, de-identification engine) only when it runs.
 *
 * dist/ is flat: modules that start a worker or read shipped files do so relative to their own URL
 * (`new URL('./worker-entry.mjs', import.meta.url)`), and in a bundle that URL is a file in dist/, so each
 * such file is built or copied to dist/ under the same name (see ASSETS).
 */
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Worker modules: entry points of their own (their sources load tsx only in a dev checkout). */
const WORKERS = {
  'worker-entry': 'gateway/seal/worker.ts',
  'chain-worker-entry': 'compliance/chain-worker.ts',
  'wal-checkpoint-worker': 'gateway/storage/wal-checkpoint-worker.mjs',
};
/** Files read at run time beside the module that reads them. */
const ASSETS = { profiles: 'gateway/deid/profiles', schema: 'profile/schema' };

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'cli/main.ts', demo: 'demo/run.ts', ...WORKERS },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
for (const [name, from] of Object.entries(ASSETS)) cpSync(join(root, from), join(dist, name), { recursive: true });
// Stamp last: the test suite's global setup rebuilds when a source is newer than this file.
writeFileSync(join(dist, 'BUILT'), `${new Date().toISOString()}\n`);
