/**
 * The insurer's inbox writes (insurer-adapter/durable-files.ts): transfers received together share folder
 * fsyncs, none served by an fsync that began before it asked (that one may predate its rename); and the
 * files written are whole, under their final names, with no temp file left.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joiningRuns, writeFilesDurably } from '../../insurer-adapter/durable-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdx-dirsync-'));
  dirs.push(dir);
  return dir;
};

/** A real folder fsync, noting when each began and ended. */
function watchedSyncs() {
  const syncs: Array<{ began: number; ended?: number }> = [];
  let tick = 0;
  const sync = joiningRuns(async (dir) => {
    const s: { began: number; ended?: number } = { began: ++tick };
    syncs.push(s);
    const handle = await open(dir, 'r');
    await handle.sync().finally(() => handle.close());
    s.ended = ++tick;
  });
  return { sync, syncs, now: () => ++tick };
}

describe("the insurer's folder fsyncs", () => {
  it('are shared by the calls made while one runs, each served by an fsync that began after it asked', async () => {
    const dir = tempDir();
    const watch = watchedSyncs();
    const first = watch.sync(dir);
    const askedAt = watch.now();
    const joined = Array.from({ length: 9 }, () => watch.sync(dir));
    const servedAt = await Promise.all(joined.map((p) => p.then(() => watch.now())));
    await first;
    expect(watch.syncs).toHaveLength(2);
    // The second fsync began after the joiners asked and ended before they were answered.
    expect(watch.syncs[1]!.began).toBeGreaterThan(askedAt);
    for (const at of servedAt) expect(at).toBeGreaterThan(watch.syncs[1]!.ended!);
    // Once idle, a call starts its own.
    await watch.sync(dir);
    expect(watch.syncs).toHaveLength(3);
  });

  it('a failed run fails its callers only; the next call runs again', async () => {
    let calls = 0;
    const run = joiningRuns(async () => {
      calls += 1;
      if (calls === 1) throw new Error('disk gone');
    });
    await expect(run('k')).rejects.toThrow('disk gone');
    await run('k');
    expect(calls).toBe(2);
  });
});

describe("the insurer's durable file writes", () => {
  it('leave each file whole under its name, private, and no temp file', async () => {
    const dir = tempDir();
    const big = 'x'.repeat(200_000);
    await Promise.all([
      writeFilesDurably(dir, [
        { name: 'a.bundle.json', data: big },
        { name: 'a.claims.json', data: '{"jti":"a"}' },
      ]),
      writeFilesDurably(dir, [{ name: 'b.bundle.json', data: 'b' }]),
    ]);
    expect(readdirSync(dir).sort()).toEqual(['a.bundle.json', 'a.claims.json', 'b.bundle.json']);
    expect(readFileSync(join(dir, 'a.bundle.json'), 'utf8')).toBe(big);
    expect(readFileSync(join(dir, 'a.claims.json'), 'utf8')).toBe('{"jti":"a"}');
    expect(statSync(join(dir, 'b.bundle.json')).mode & 0o777).toBe(0o600);
  });

  it('replace a file written before (a transfer offered again)', async () => {
    const dir = tempDir();
    await writeFilesDurably(dir, [{ name: 't.bundle.json', data: 'first' }]);
    await writeFilesDurably(dir, [{ name: 't.bundle.json', data: 'second' }]);
    expect(readFileSync(join(dir, 't.bundle.json'), 'utf8')).toBe('second');
    expect(readdirSync(dir)).toEqual(['t.bundle.json']);
  });

  it('refuse with the error of the folder and write nothing when it is missing', async () => {
    await expect(writeFilesDurably(join(tempDir(), 'gone'), [{ name: 'x', data: 'y' }])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
