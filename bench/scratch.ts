import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the run's files go: HDX_BENCH_DIR, else `.bench/` in the repository. Not the system temp folder:
 * the test suite churns it, and on ext4 without a journal (this machine) each file created soon after
 * many deletions scans past the freed inodes (~1 ms of kernel time per file instead of ~0.1 ms).
 */
export function benchDir(): string {
  const dir = process.env['HDX_BENCH_DIR'] ?? fileURLToPath(new URL('../.bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}
