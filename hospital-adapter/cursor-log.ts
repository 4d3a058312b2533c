/**
 * The decision stream's resume cursor, kept as an append-only log (`cursor.log`, one decimal cursor per
 * line) instead of a file replaced per batch. Replacing a file frees an inode per batch, and on ext4
 * without a journal every later file creation in that folder scans past the recently freed inodes: under
 * load that made each decision file cost ~1 ms of kernel time. Appending costs one write and one
 * fdatasync. A line torn by a crash has no newline (or is not a number) and is ignored; cursors only
 * grow, so the largest whole line is the cursor. The log is compacted when it passes COMPACT_AT bytes.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'cursor.log';
/** Written by earlier versions: `{"cursor": N}`, replaced per batch. Read once, then superseded. */
const LEGACY_FILE = 'state.json';
const COMPACT_AT = 256 * 1024;
const LINE = /^\d{1,15}$/;

/** The last stored cursor in `outDir`, or 0. */
export function readCursor(outDir: string): number {
  const text = readIfExists(join(outDir, FILE));
  if (text !== undefined) {
    let cursor = 0;
    const lines = text.split('\n');
    lines.pop(); // whatever follows the last newline is an unfinished append
    for (const line of lines) if (LINE.test(line)) cursor = Math.max(cursor, Number(line));
    return cursor;
  }
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

export class CursorLog {
  private handle: FileHandle | undefined;
  private size = 0;

  private constructor(
    private readonly path: string,
    private readonly compactAt: number,
    /** The cursor stored when the log was opened. */
    readonly cursor: number,
  ) {}

  /** Opens (or starts) the log in `outDir`, compacted to the cursor it already holds. */
  static async open(outDir: string, options: { compactAt?: number } = {}): Promise<CursorLog> {
    const log = new CursorLog(join(outDir, FILE), options.compactAt ?? COMPACT_AT, readCursor(outDir));
    log.rewrite(log.cursor);
    log.handle = await open(log.path, 'a', 0o600);
    return log;
  }

  /** Stores `cursor` durably (resolves after fdatasync). */
  async store(cursor: number): Promise<void> {
    if (!this.handle) throw new Error('cursor log is closed');
    if (this.size >= this.compactAt) {
      await this.handle.close();
      this.rewrite(cursor);
      this.handle = await open(this.path, 'a', 0o600);
      return;
    }
    const line = `${cursor}\n`;
    await this.handle.appendFile(line);
    await this.handle.datasync();
    this.size += line.length;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  /** Replaces the log with one line, atomically (rare: at open and at compaction). */
  private rewrite(cursor: number): void {
    const temp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(temp, `${cursor}\n`, { mode: 0o600 });
    const fd = openSync(temp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    this.size = `${cursor}\n`.length;
  }
}
