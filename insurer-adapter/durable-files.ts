/**
 * The inbox's durable writes. A file is written so that it is either wholly there or not at all (a temp
 * file, fdatasynced, renamed), and the renames into a folder are made durable by one folder fsync shared by
 * every transfer of the wave (`syncDir`).
 *
 * No FileHandles (a handle object and its GC tracking per file, a promise per step): the calls that may
 * wait on the file system's journal — open, rename, fdatasync, fsync — are single libuv requests on raw
 * descriptors, so a busy disk does not block the event loop; writing into the page cache and closing are
 * synchronous (a few µs). Transfers received at once still overlap their disk waits.
 */
import { closeSync, fdatasync, fsync, open, rename, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FileToWrite {
  name: string;
  data: string;
}

let sequence = 0;

/**
 * Writes `files` into `dir`; resolves once their content and names are on disk. A failure leaves no
 * partial file under a final name (a temp file may stay behind, named `<name>.tmp-<pid>-<n>`).
 */
export async function writeFilesDurably(dir: string, files: readonly FileToWrite[]): Promise<void> {
  const temps: Array<{ fd: number; temp: string; path: string }> = [];
  // Settled, not Promise.all: no descriptor is closed while another file's step still runs on it.
  const written = await Promise.allSettled(
    files.map(async ({ name, data }) => {
      const temp = join(dir, `${name}.tmp-${process.pid}-${++sequence}`);
      const fd = await openFile(temp, 'w', 0o600);
      temps.push({ fd, temp, path: join(dir, name) });
      writeFileSync(fd, data);
      await callback(fdatasync, fd);
    }),
  );
  for (const { fd } of temps) closeSync(fd);
  const failed = written.find((w) => w.status === 'rejected');
  if (failed) throw failed.reason;
  await Promise.all(temps.map(({ temp, path }) => new Promise<void>((resolve, reject) => rename(temp, path, (e) => (e ? reject(e) : resolve())))));
  // Every name on disk before the caller tells anyone the files are there.
  await syncDir(dir);
}

/**
 * Makes the renames into `dir` durable (without it a power cut can lose a file already acknowledged).
 * Transfers received together share folder fsyncs (`joiningRuns`): a call made while one runs is served by
 * the next (the running one may have begun before the caller's rename) — one fsync per wave, not per transfer.
 */
export const syncDir: (dir: string) => Promise<void> = joiningRuns(fsyncDir);

/**
 * `run` per key, shared: a call made while one runs for its key waits for the next run, which starts when
 * that one ends and serves every call that joined it; once idle, a call starts a run of its own.
 */
export function joiningRuns(run: (key: string) => Promise<void>): (key: string) => Promise<void> {
  const runs = new Map<string, { done: Promise<void>; next?: Promise<void> }>();
  const start = (key: string): Promise<void> => {
    const running = run(key);
    const entry = { done: running.then(() => {}, () => {}).then(() => void (runs.get(key) === entry && runs.delete(key))) };
    runs.set(key, entry);
    return running;
  };
  return (key) => {
    const current = runs.get(key);
    if (!current) return start(key);
    current.next ??= current.done.then(() => start(key));
    return current.next;
  };
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await callback(fsync, fd);
  } finally {
    closeSync(fd);
  }
}

/** open(2) as one libuv request, giving a raw descriptor. */
export function openFile(path: string, flags: string, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(fd))));
}

/** fdatasync/fsync on a raw descriptor: one libuv request, no FileHandle. */
export function callback(op: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void, fd: number): Promise<void> {
  return new Promise((resolve, reject) => op(fd, (error) => (error ? reject(error) : resolve())));
}
