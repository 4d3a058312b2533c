/**
 * The decision stream's durable log (`cursor.log`): one line per batch, appended with one write and one
 * fdatasync, holding the batch's last cursor and the files it writes for the HIS (decisions, stay
 * settlements, refusals). That line is the batch's only fsync: the files are then written in place
 * (temporary name, rename) without one, and a restart after a crash or power cut writes every file its
 * lines name again before it reads on. Once the log passes COMPACT_AT bytes the files are made durable
 * together (syncfs(2) of their file system; see syncFiles) and the log is replaced by its last cursor.
 *
 * An append-only log, not a file replaced per batch: replacing frees an inode per batch, and on ext4
 * without a journal later creations in the folder scan past freed inodes (~1 ms of kernel time each).
 * Line format: `<cursor>` or `<cursor> <JSON array of {path, data}>`. A line torn by a crash has no
 * newline (or does not parse) and is ignored — its files were not written yet, and the gateway sends its
 * decisions again. Cursors only grow, so the largest whole line is the cursor.
 */
import { execFile } from 'node:child_process';
import { closeSync, fdatasync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { replaceFile, syncDir } from './durable.js';

const FILE = 'cursor.log';
/** Written by earlier versions: `{"cursor": N}`, replaced per batch. Read once, then superseded. */
const LEGACY_FILE = 'state.json';
/** ~3,000 decisions with their settlements: a syncfs per that many, and at most that much to rewrite at start. */
const COMPACT_AT = 16 * 1024 * 1024;
const LINE = /^(\d{1,15})(?: (\[.*\]))?$/;

/** A file a batch writes, its path relative to the log's folder. */
export interface LoggedFile {
  path: string;
  data: string;
}

interface Entry {
  cursor: number;
  files: LoggedFile[];
}

/** The whole lines of the log's text (whatever follows the last newline is an unfinished append). */
function entriesOf(text: string): Entry[] {
  const lines = text.split('\n');
  lines.pop();
  const entries: Entry[] = [];
  for (const line of lines) {
    const match = LINE.exec(line);
    if (!match) continue;
    let files: LoggedFile[] = [];
    if (match[2] !== undefined) {
      try {
        files = (JSON.parse(match[2]) as LoggedFile[]).filter(isLoggedFile);
      } catch {
        continue; // torn inside a line (a crash mid-write, then a later append): its files were never written
      }
    }
    entries.push({ cursor: Number(match[1]), files });
  }
  return entries;
}

const isLoggedFile = (f: LoggedFile): boolean =>
  typeof f?.path === 'string' && typeof f.data === 'string' && f.path !== '' && !isAbsolute(f.path) && !f.path.split('/').includes('..');

/** The last stored cursor in `outDir`, or 0. */
export function readCursor(outDir: string): number {
  const text = readIfExists(join(outDir, FILE));
  if (text !== undefined) return entriesOf(text).reduce((cursor, e) => Math.max(cursor, e.cursor), 0);
  const legacy = readIfExists(join(outDir, LEGACY_FILE));
  if (legacy === undefined) return 0;
  const state = JSON.parse(legacy) as { cursor?: unknown };
  return Number.isSafeInteger(state.cursor) && (state.cursor as number) >= 0 ? (state.cursor as number) : 0;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const execFileAsync = promisify(execFile);
/** On a raw descriptor: one libuv request, no FileHandle (its promise machinery and GC tracking per call). */
const fdatasyncAsync = promisify(fdatasync);

/**
 * Makes `paths` (files in `root`'s file system, written without fsync) and their renames durable: one
 * syncfs(2) through coreutils' `sync -f` (Node has no binding for it); where that is missing, each file
 * and folder is synced.
 */
async function syncFiles(root: string, paths: Iterable<string>, options: { syncfs?: boolean }): Promise<void> {
  if (options.syncfs !== false) {
    try {
      await execFileAsync('sync', ['-f', root]);
      return;
    } catch {
      // Not GNU coreutils (or no such command): one by one.
    }
  }
  const dirs = new Set<string>();
  for (const path of paths) {
    const handle = await open(path, 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    dirs.add(dirname(path));
  }
  for (const dir of dirs) await syncDir(dir);
}

export interface CursorLogOptions {
  compactAt?: number;
  /** false: never syncfs, sync each file (the fallback, for tests). */
  syncfs?: boolean;
}

export class CursorLog {
  /** Open for appending; written synchronously (page-cache work), only the fdatasync goes to libuv's pool. */
  private fd: number | undefined;
  private size = 0;
  /** Files written since the log was last compacted (for the one-by-one fallback). */
  private readonly unsynced = new Set<string>();

  private constructor(
    private readonly dir: string,
    private readonly options: CursorLogOptions,
    /** The cursor stored when the log was opened. */
    readonly cursor: number,
  ) {}

  private get path(): string {
    return join(this.dir, FILE);
  }

  /**
   * Opens (or starts) the log in `outDir`: writes again the files its lines name (a crash may have left
   * them unwritten or, after a power cut, not on disk), makes them durable and compacts it to its cursor.
   */
  static async open(outDir: string, options: CursorLogOptions = {}): Promise<CursorLog> {
    const log = new CursorLog(outDir, options, readCursor(outDir));
    const entries = entriesOf(readIfExists(log.path) ?? '');
    for (const entry of entries) log.writeFiles(entry.files);
    if (entries.some((e) => e.files.length > 0)) await syncFiles(outDir, log.unsynced, options);
    log.unsynced.clear();
    log.rewrite(`${log.cursor}\n`);
    log.fd = openSync(log.path, 'a', 0o600);
    return log;
  }

  /**
   * Stores `cursor` and `files` durably (resolves after the line's fdatasync), then writes the files in
   * place (temporary name, rename; no fsync of their own).
   */
  async store(cursor: number, files: LoggedFile[] = []): Promise<void> {
    if (this.fd === undefined) throw new Error('cursor log is closed');
    const line = files.length > 0 ? `${cursor} ${JSON.stringify(files)}\n` : `${cursor}\n`;
    if (this.size >= (this.options.compactAt ?? COMPACT_AT)) {
      // Every file written so far made durable, the log restarts with this batch's line.
      await syncFiles(this.dir, this.unsynced, this.options);
      this.unsynced.clear();
      closeSync(this.fd);
      this.fd = undefined;
      this.rewrite(line);
      this.fd = openSync(this.path, 'a', 0o600);
    } else {
      writeFileSync(this.fd, line); // loops over partial writes
      await fdatasyncAsync(this.fd);
      this.size += Buffer.byteLength(line);
    }
    this.writeFiles(files);
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private writeFiles(files: LoggedFile[]): void {
    for (const file of files) {
      const path = join(this.dir, file.path);
      replaceFile(path, file.data);
      this.unsynced.add(path);
    }
  }

  /** Replaces the log with `text`, atomically and durably (rare: at open and at compaction). */
  private rewrite(text: string): void {
    const temp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(temp, text, { mode: 0o600 });
    const fd = openSync(temp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.size = Buffer.byteLength(text);
  }
}
