/**
 * The esbuild bundle of hdx's TypeScript (see build.mjs): node packages stay external (loaded from
 * node_modules as usual); our code is bundled with code splitting, so an entry loads the heavy parts
 * (gateway, de-identification engine) only when it runs. Also used by the bench to run its party
 * processes from a build, as the product runs, rather than through tsx.
 *
 * The output folder is flat: modules that start a worker or read shipped files do so relative to their
 * own URL (`new URL('./worker-entry.mjs', import.meta.url)`), and in a bundle that URL is a file in the
 * output folder, so each such file is built or copied there under the same name (see ASSETS).
 */
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Worker modules: entry points of their own (their sources load tsx only in a dev checkout). */
const WORKERS = {
  'worker-entry': 'gateway/seal/worker.ts',
  'chain-worker-entry': 'compliance/chain-worker.ts',
  'wal-checkpoint-worker': 'gateway/storage/wal-checkpoint-worker.mjs',
};
/** Files read at run time beside the module that reads them. */
const ASSETS = { profiles: 'gateway/deid/profiles', schema: 'profile/schema' };

/** Empties `outdir` and bundles `entries` (name → source, relative to the repository) with the workers into it. */
export async function bundle(outdir, entries) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { ...entries, ...WORKERS },
    outdir,
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
  for (const [name, from] of Object.entries(ASSETS)) cpSync(join(root, from), join(outdir, name), { recursive: true });
}
