/** `hdx hospital submit`'s progress (count, rate, ETA, refusals by status) and its skipping of non-bundles. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionBundles } from '../../hospital-adapter/local-validation.js';
import { SubmitProgress } from '../../hospital-adapter/progress.js';

function sink(isTTY: boolean) {
  const lines: string[] = [];
  return { isTTY, lines, write: (text: string) => void lines.push(text) };
}

describe('submit progress', () => {
  it('prints plain lines every 5 % off a terminal, with rate, ETA and refusals by status', () => {
    let now = 0;
    const out = sink(false);
    const progress = new SubmitProgress(100, out, () => now);
    for (let i = 0; i < 100; i++) {
      now += 100; // 10 files a second
      progress.tick(i % 10 === 0 ? 'INVALID_ARGUMENT' : i === 55 ? 'FAILED_PRECONDITION' : undefined);
    }
    expect(out.lines).toHaveLength(21); // 0 %, each 5 %, and the last
    expect(out.lines[10]).toBe('50/100 (50%)  10.0/s  ETA 5 s  refused: INVALID_ARGUMENT 5\n');
    expect(out.lines.at(-1)).toBe('100/100 (100%)  10.0/s  refused: INVALID_ARGUMENT 10, FAILED_PRECONDITION 1\n');
  });

  it('redraws one line on a terminal at most every 200 ms, and ends it', () => {
    let now = 0;
    const out = sink(true);
    const progress = new SubmitProgress(1000, out, () => now);
    for (let i = 0; i < 1000; i++) {
      now += 1; // 1,000 files a second: one redraw per 200 files
      progress.tick();
    }
    expect(out.lines.length).toBeLessThanOrEqual(7);
    expect(out.lines.every((line) => line.startsWith('\r\x1b[2K'))).toBe(true);
    expect(out.lines.at(-1)).toBe('\r\x1b[2K1000/1000 (100%)  1000.0/s\n');
  });
});

describe('non-bundles are skipped with a reason', () => {
  it('sorts files into bundles and the rest, quoting nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-partition-'));
    const write = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name));
    const bundle = write('a.json', JSON.stringify({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient' } }] }));
    const patient = write('b.json', JSON.stringify({ resourceType: 'Patient', name: [{ text: '李娜' }] }));
    const broken = write('c.json', '{"resourceType": "Bundle", "entry": [');
    const { bundles, skipped } = partitionBundles([bundle, patient, broken, join(dir, 'missing.json')]);
    expect(bundles).toEqual([bundle]);
    expect(skipped.map((s) => s.reason)).toEqual(['resourceType: expected a FHIR Bundle', 'the file is not JSON', 'cannot be read']);
    expect(JSON.stringify(skipped)).not.toContain('李娜');
  });
});
