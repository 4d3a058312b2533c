import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CursorLog, readCursor } from '../../hospital-adapter/cursor-log.js';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hdx-cursor-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the hospital resume cursor log', () => {
  it('starts at 0 and returns the last stored cursor after a reopen', async () => {
    const out = dir();
    expect(readCursor(out)).toBe(0);
    const log = await CursorLog.open(out);
    await log.store(3);
    await log.store(17);
    await log.close();
    expect(readCursor(out)).toBe(17);
    const again = await CursorLog.open(out);
    await again.store(18);
    await again.close();
    expect(readCursor(out)).toBe(18);
    expect(readFileSync(join(out, 'cursor.log'), 'utf8')).toBe('17\n18\n');
  });

  it('ignores a line torn by a crash (no newline, or not a number)', async () => {
    const out = dir();
    const log = await CursorLog.open(out);
    await log.store(41);
    await log.close();
    appendFileSync(join(out, 'cursor.log'), '\0\0\0\n999');
    expect(readCursor(out)).toBe(41);
  });

  it('compacts itself to one line once it passes its size limit, keeping the cursor', async () => {
    const out = dir();
    const log = await CursorLog.open(out, { compactAt: 32 });
    for (let cursor = 1; cursor <= 40; cursor++) await log.store(cursor);
    await log.close();
    const text = readFileSync(join(out, 'cursor.log'), 'utf8');
    expect(text.length).toBeLessThanOrEqual(32 + 4);
    expect(text.split('\n').filter(Boolean).at(-1)).toBe('40');
    expect(readCursor(out)).toBe(40);
  });

  it('carries over the cursor an earlier version kept in state.json', async () => {
    const out = dir();
    writeFileSync(join(out, 'state.json'), JSON.stringify({ cursor: 12 }));
    expect(readCursor(out)).toBe(12);
    const log = await CursorLog.open(out);
    await log.store(13);
    await log.close();
    expect(readCursor(out)).toBe(13);
  });

  it('writes the files of a batch after its line, and writes them again at the next open (lost in a power cut)', async () => {
    const out = dir();
    mkdirSync(join(out, 'decisions'));
    const log = await CursorLog.open(out);
    await log.store(5, [
      { path: 'decisions/5.json', data: '{"five":5}' },
      { path: 'decisions/s.json', data: '{"stay":1}' },
    ]);
    await log.store(6, [{ path: 'decisions/s.json', data: '{"stay":2}' }]);
    expect(readFileSync(join(out, 'decisions/s.json'), 'utf8')).toBe('{"stay":2}');
    await log.close();
    expect(readCursor(out)).toBe(6);

    // The files did not reach the disk; one was left truncated.
    rmSync(join(out, 'decisions/5.json'));
    writeFileSync(join(out, 'decisions/s.json'), '');
    const again = await CursorLog.open(out);
    expect(again.cursor).toBe(6);
    expect(readFileSync(join(out, 'decisions/5.json'), 'utf8')).toBe('{"five":5}');
    expect(readFileSync(join(out, 'decisions/s.json'), 'utf8')).toBe('{"stay":2}');
    // Made durable and compacted: the log holds the cursor only, no temporary file is left.
    expect(readFileSync(join(out, 'cursor.log'), 'utf8')).toBe('6\n');
    expect(readdirSync(join(out, 'decisions')).sort()).toEqual(['5.json', 's.json']);
    await again.close();
  });

  it('ignores a batch line torn by a crash: its cursor is not stored and its files are not written', async () => {
    const out = dir();
    mkdirSync(join(out, 'decisions'));
    const log = await CursorLog.open(out);
    await log.store(7, [{ path: 'decisions/7.json', data: '7' }]);
    await log.close();
    appendFileSync(join(out, 'cursor.log'), '9 [{"path":"decisions/9.json","da\n'); // cut inside
    appendFileSync(join(out, 'cursor.log'), '10 [{"path":"../outside.json","data":"x"}]\n'); // not ours to write
    appendFileSync(join(out, 'cursor.log'), '11 [{"path":"decisions/8.json","data":"8"}]'); // no newline
    expect(readCursor(out)).toBe(10);
    const again = await CursorLog.open(out);
    await again.close();
    expect(existsSync(join(out, 'decisions/8.json'))).toBe(false);
    expect(existsSync(join(out, 'decisions/9.json'))).toBe(false);
    expect(existsSync(join(out, '../outside.json'))).toBe(false);
    expect(readFileSync(join(out, 'decisions/7.json'), 'utf8')).toBe('7');
  });

  for (const syncfs of [true, false]) {
    it(`compacts a log of batches once it passes its size limit, the files kept (${syncfs ? 'syncfs' : 'each file synced'})`, async () => {
      const out = dir();
      mkdirSync(join(out, 'decisions'));
      const log = await CursorLog.open(out, { compactAt: 256, syncfs });
      for (let cursor = 1; cursor <= 30; cursor++) await log.store(cursor, [{ path: `decisions/${cursor}.json`, data: `{"cursor":${cursor}}` }]);
      await log.close();
      const text = readFileSync(join(out, 'cursor.log'), 'utf8');
      expect(text.length).toBeLessThan(256 + 64);
      expect(readCursor(out)).toBe(30);
      expect(readdirSync(join(out, 'decisions')).length).toBe(30);
      expect(readFileSync(join(out, 'decisions/30.json'), 'utf8')).toBe('{"cursor":30}');
    });
  }
});
