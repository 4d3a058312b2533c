/**
 * Files the HIS reads and the adapter's own state, written so that each is wholly there or not at all and
 * survives a power cut: write a temporary file, fsync it, rename it into place, and fsync the folder so the
 * rename itself is on disk. Asynchronous (the fsyncs run in libuv's pool, several at once), and split so
 * that a batch of files costs one folder fsync, not one per file. Files a durable log can write again
 * after a crash skip the fsyncs (replaceFile).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';

/**
 * Writes `path` atomically and fdatasyncs its content; the rename is durable only after `syncDir`. The
 * folder must exist (`makeFolders`, once, rather than a mkdir per file).
 */
export async function writeFileSynced(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/**
 * Replaces `path` with `data` atomically (a reader sees the old file or the new one, whole) but not
 * durably: for files a durable log can write again (cursor-log.ts). Synchronous: two system calls on the
 * page cache cost less than the promise machinery of four asynchronous ones.
 */
export function replaceFile(path: string, data: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, data, { mode: 0o600 });
  renameSync(temp, path);
}

/** Creates `dirs` (and their parents) if missing, owner-only. */
export function makeFolders(...dirs: string[]): void {
  for (const dir of dirs) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Makes the renames in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Parsed JSON of a file, or undefined if it does not exist (synchronous; no ENOENT error built when it does not). */
export function readJsonIfExists<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
