/**
 * What a run leaves behind: `bench/results/latest.json` (the machine, every line with its floor and ratio)
 * and an SVG per chart, plus a dated copy of the JSON (git-ignored; latest.json and the SVGs are committed
 * after a quiet run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChartSvg, type LineChart } from './svg.js';
import type { BenchLine } from './types.js';

export interface ResultLine extends BenchLine {
  module: string;
  /** The floor's value (from the same run) and value / floor, when the line names a floor that ran. */
  floorValue?: number;
  ratio?: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  /** Set when the run was limited with --only (then the file holds only those modules). */
  only?: string[];
  /** The storage engines the per-engine modules ran on (each of their lines names its engine in `store`). */
  stores?: string[];
  machine: { cpus: number; model: string; node: string; platform: string; memoryMB: number; loadAverage: { start: number[]; end: number[] } };
  failures: string[];
  lines: ResultLine[];
}

/** Chart titles and axes, by the chart id the lines carry. */
const CHARTS: Record<string, Omit<LineChart, 'series'>> = {
  'settlement-latency': {
    title: 'Settlement: submit → decision latency against offered load',
    xLabel: 'offered load (records/s)',
    yLabel: 'latency (ms, log scale)',
    logY: true,
    reference: { y: 250, label: 'target p99 < 250 ms' },
  },
  'settlement-throughput': {
    title: 'Settlement: sustained throughput against offered load',
    xLabel: 'offered load (records/s)',
    yLabel: 'records/s',
  },
};

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function machine(loadStart: number[]): BenchResults['machine'] {
  return {
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryMB: Math.round(totalmem() / 2 ** 20),
    loadAverage: { start: loadStart, end: loadavg() },
  };
}

/** Resolves each line's floor by name among all lines of the run. */
export function withFloors(lines: ResultLine[]): ResultLine[] {
  const byName = new Map(lines.map((l) => [l.name, l]));
  return lines.map((line) => {
    const floor = line.floor === undefined ? undefined : byName.get(line.floor);
    if (!floor || !(floor.value > 0)) return line;
    return { ...line, floorValue: floor.value, ratio: line.value / floor.value };
  });
}

export function chartsOf(lines: ResultLine[]): Array<{ id: string; chart: LineChart }> {
  const ids = [...new Set(lines.flatMap((l) => (l.chart ? [l.chart.id] : [])))];
  return ids.map((id) => {
    const mine = lines.filter((l) => l.chart?.id === id);
    const names = [...new Set(mine.map((l) => l.chart!.series))];
    const series = names.map((name) => ({
      name,
      points: mine.filter((l) => l.chart!.series === name).map((l) => ({ x: l.chart!.x, y: l.value })).sort((a, b) => a.x - b.x),
    }));
    const meta = CHARTS[id] ?? { title: id, xLabel: 'x', yLabel: 'value' };
    return { id, chart: { ...meta, series } };
  });
}

/** Writes the JSON (latest and dated) and the SVGs; returns the files written. */
export function writeResults(results: BenchResults, dir = RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const files = [join(dir, 'latest.json'), join(dir, `${stamp}.json`)];
  for (const file of files) writeFileSync(file, json);
  for (const { id, chart } of chartsOf(results.lines)) {
    const file = join(dir, `${id}.svg`);
    writeFileSync(file, lineChartSvg(chart));
    files.push(file);
  }
  return files;
}
