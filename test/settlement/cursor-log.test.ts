import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
});
