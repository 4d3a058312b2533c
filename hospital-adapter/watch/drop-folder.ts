/**
 * The drop folder the HIS writes bundles into, and its `done/` and `failed/` folders. The HIS writes each
 * file elsewhere (or under a temporary name) and renames it in, so a file that appears is whole: names
 * starting with a dot or ending in .tmp/.part are not picked up. Moves are renames within one file system,
 * made durable with a folder fsync; a name already taken in done/ or failed/ gets a numbered suffix.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { syncDir, writeFileSynced } from '../durable.js';

const IGNORED = /^\.|\.(tmp|part|partial|swp)$/i;

/** The bundle files waiting in `dir`, by name. */
export function waitingFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !IGNORED.test(entry.name) && extname(entry.name).toLowerCase() === '.json')
    .map((entry) => entry.name)
    .sort();
}

/** A free name for `name` in `dir`: the name itself, or name.1.json, name.2.json, … */
function freeName(dir: string, name: string): string {
  if (!existsSync(join(dir, name))) return name;
  const ext = extname(name);
  const stem = basename(name, ext);
  for (let n = 1; ; n++) {
    const candidate = `${stem}.${n}${ext}`;
    if (!existsSync(join(dir, candidate))) return candidate;
  }
}

/**
 * Moves `name` from `from` into `to`, with a side file (`<name>.receipt.json` or `.reason.json`) written
 * first; returns the name it got. Missing source (moved before a crash) is not an error.
 */
export async function moveWithNote(from: string, to: string, name: string, noteSuffix: string, note: unknown): Promise<string | undefined> {
  if (!existsSync(join(from, name))) return undefined;
  const target = freeName(to, name);
  await writeFileSynced(join(to, `${target}${noteSuffix}`), `${JSON.stringify(note, null, 2)}\n`);
  renameSync(join(from, name), join(to, target));
  await syncDir(to);
  await syncDir(from);
  return target;
}
