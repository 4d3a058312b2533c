/**
 * The insurer's folder fsyncs (insurer-adapter/receive.ts): transfers received together share them, and
 * none is served by an fsync that began before it asked (that one may predate its rename).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { syncDir } from '../../insurer-adapter/receive.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Counts the fsyncs of file handles, noting when each began and ended. */
async function watchSyncs(dir: string) {
  const handle = await open(dir, 'r');
  const proto = Object.getPrototypeOf(handle) as { sync: () => Promise<void> };
  await handle.close();
  const original = proto.sync;
  const syncs: Array<{ began: number; ended?: number }> = [];
  let tick = 0;
  vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
    const s: { began: number; ended?: number } = { began: ++tick };
    syncs.push(s);
    await original.call(this);
    s.ended = ++tick;
  });
  return { syncs, now: () => ++tick };
}

describe("the insurer's folder fsyncs", () => {
  it('are shared by the calls made while one runs, each served by an fsync that began after it asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-dirsync-'));
    dirs.push(dir);
    const watch = await watchSyncs(dir);
    const first = syncDir(dir);
    const askedAt = watch.now();
    const joined = Array.from({ length: 9 }, () => syncDir(dir));
    const servedAt = await Promise.all(joined.map((p) => p.then(() => watch.now())));
    await first;
    expect(watch.syncs).toHaveLength(2);
    // The second fsync began after the joiners asked and ended before they were answered.
    expect(watch.syncs[1]!.began).toBeGreaterThan(askedAt);
    for (const at of servedAt) expect(at).toBeGreaterThan(watch.syncs[1]!.ended!);
    // Once idle, a call starts its own.
    await syncDir(dir);
    expect(watch.syncs).toHaveLength(3);
  });
});
