import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chartsOf, machine, withFloors, writeResults, type ResultLine } from '../../bench/results.js';
import { sampleRss } from '../../bench/settlement/rss.js';
import { lineChartSvg } from '../../bench/svg.js';

const line = (name: string, value: number, extra: Partial<ResultLine> = {}): ResultLine => ({ module: 'm', name, value, unit: 'x', ...extra });

describe('bench results', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves each floor by name across modules and records the ratio', () => {
    const lines = withFloors([
      line('figure', 50, { floor: 'the floor', module: 'a' }),
      line('the floor', 200, { module: 'b' }),
      line('orphan', 7, { floor: 'not measured in this run' }),
      line('zero floor', 3, { floor: 'zero' }),
      line('zero', 0),
    ]);
    expect(lines[0]).toMatchObject({ floorValue: 200, ratio: 0.25 });
    expect(lines[2]).not.toHaveProperty('ratio');
    expect(lines[3]).not.toHaveProperty('ratio');
  });

  it('groups chart lines into series ordered by x', () => {
    const charts = chartsOf([
      line('p99 @200', 900, { chart: { id: 'settlement-latency', series: 'p99', x: 200 } }),
      line('p99 @50', 40, { chart: { id: 'settlement-latency', series: 'p99', x: 50 } }),
      line('p50 @50', 20, { chart: { id: 'settlement-latency', series: 'p50', x: 50 } }),
      line('no chart', 1),
    ]);
    expect(charts).toHaveLength(1);
    expect(charts[0]!.chart.title).toContain('latency');
    expect(charts[0]!.chart.series).toEqual([
      { name: 'p99', points: [{ x: 50, y: 40 }, { x: 200, y: 900 }] },
      { name: 'p50', points: [{ x: 50, y: 20 }] },
    ]);
  });

  it('draws one polyline per multi-point series, a marker per point, escaped text, and skips NaN', () => {
    const svg = lineChartSvg({
      title: 'a < b & c',
      xLabel: 'offered',
      yLabel: 'ms',
      series: [
        { name: 'p50', points: [{ x: 50, y: 10 }, { x: 100, y: Number.NaN }, { x: 200, y: 30 }] },
        { name: 'one', points: [{ x: 50, y: 5 }] },
      ],
      reference: { y: 250, label: 'target' },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).not.toContain('a < b');
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('stroke-dasharray'); // the reference line
  });

  it('on a log axis, ticks at decades and leaves out values that are not positive', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'ms',
      logY: true,
      series: [{ name: 'p99', points: [{ x: 50, y: 40 }, { x: 100, y: 0 }, { x: 200, y: 15_000 }] }],
    });
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['10', '100', '1k', '10k', '100k']);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('writes latest.json, a dated copy and one SVG per chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-bench-results-'));
    dirs.push(dir);
    const results = {
      date: '2026-12-02T18:00:00.123Z',
      quick: true,
      machine: machine([0.5, 0.4, 0.3]),
      failures: [],
      lines: [line('p99 @50', 40, { chart: { id: 'settlement-throughput', series: 'decided', x: 50 } })],
    };
    const files = writeResults(results, dir);
    expect(readdirSync(dir).sort()).toEqual(['2026-12-02T18-00-00Z.json', 'latest.json', 'settlement-throughput.svg']);
    expect(files).toHaveLength(3);
    const written = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
    expect(written.machine).toMatchObject({ cpus: expect.any(Number), node: process.version, loadAverage: { start: [0.5, 0.4, 0.3] } });
    expect(written.lines[0]).toMatchObject({ name: 'p99 @50', value: 40 });
  });

  it('samples this process\'s resident memory', () => {
    const rss = sampleRss(process.pid, 60_000);
    rss.stop();
    expect(rss.samples.length).toBeGreaterThanOrEqual(2);
    expect(rss.peakMb()).toBeGreaterThan(1);
    const { startMb, endMb } = rss.window(0, Date.now());
    expect(startMb).toBe(rss.samples[0]!.mb);
    expect(endMb).toBe(rss.samples.at(-1)!.mb);
  });
});
