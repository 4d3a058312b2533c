import { describe, expect, it } from 'vitest';
import { settlementLines, soakLines } from '../../bench/settlement/lines.js';
import type { HospitalBenchResult } from '../../bench/settlement/hospital.js';
import type { RssSampler } from '../../bench/settlement/rss.js';

const result = (over: Partial<HospitalBenchResult> = {}): HospitalBenchResult => ({
  type: 'result',
  latencies: Array.from({ length: 100 }, (_, i) => i + 1), // 1..100 ms
  submitLatencies: Array.from({ length: 100 }, () => 5),
  sendLag: [0, 1],
  errors: 0,
  missing: 0,
  seconds: 1,
  measuredFrom: 0,
  outcomes: { approved: 100 },
  cpuMs: 100,
  ...over,
});

// 10 records accepted 100 ms apart from t=0; each delivered +10, acknowledged +30, decided +40 ms.
const rows = Array.from({ length: 10 }, (_, i) => ({ created: i * 100, delivered: i * 100 + 10, acknowledged: i * 100 + 30, decided: i * 100 + 40 }));
const figures = (over: Partial<Parameters<typeof settlementLines>[0]> = {}) =>
  settlementLines({
    rate: 100,
    note: 'n',
    result: result(),
    rows,
    cpuPerRecord: { gateway: 1, insurer: 0.5, hospital: 0.25 },
    cpuTotal: 1.75,
    gatewayLoop: { mainThreadCpu: 0.6, commits: 0.5, itemsPerCommit: 8, commitMs: 1.5 },
    gatewayRssPeak: 200,
    partyRssPeak: { hospital: 100, insurer: 100 },
    cores: 2,
    ...over,
  });
const value = (lines: ReturnType<typeof figures>, suffix: string) => lines.find((l) => l.name.endsWith(suffix))!;

describe('settlement bench figures', () => {
  it('reads each stage from the gateway timestamps and the end to end from the hospital clock', () => {
    const lines = figures();
    expect(value(lines, 'gateway accepted → delivered (p99)').value).toBe(10);
    expect(value(lines, 'gateway delivered → acknowledged (p50)').value).toBe(20);
    expect(value(lines, 'gateway acknowledged → decided (p99)').value).toBe(10);
    expect(value(lines, 'gateway accepted → decided (p50)').value).toBe(40);
    expect(value(lines, 'submit → decision at the desk (p50)').value).toBe(50);
    expect(value(lines, 'submit → decision at the desk (p99)').value).toBe(99);
    expect(value(lines, 'submit → decision at the desk (p99)')).toMatchObject({ meets: true, chart: { id: 'settlement-latency', x: 100 } });
  });

  it('sustained throughput counts the records that reached a stage over first acceptance → last to reach it', () => {
    const lines = figures();
    expect(value(lines, 'sustained submitted').value).toBeCloseTo(10 / 0.9);
    expect(value(lines, 'sustained decided').value).toBeCloseTo(10 / 0.94);
    const undecided = figures({ rows: rows.map((r, i) => (i >= 5 ? { ...r, decided: null } : r)) });
    expect(value(undecided, 'sustained decided').value).toBeCloseTo(5 / 0.44);
  });

  it("reports the gateway's event-loop thread, its group commits per record and the time they held it", () => {
    const lines = figures();
    expect(value(lines, 'CPU per record, gateway event-loop thread').value).toBe(0.6);
    expect(value(lines, 'gateway group commits per record')).toMatchObject({ value: 0.5, note: expect.stringContaining('8.0 state changes per commit') });
    expect(value(lines, 'gateway event loop held by group commits, per record').value).toBe(1.5);
  });

  it("divides each party's thread groups by the records sent", () => {
    const groups = [{ name: 'hdx-seal', threads: 2, ms: 300 }, { name: 'event loop', threads: 1, ms: 100 }];
    const measured = [{ name: 'hdx-seal', threads: 2, ms: 100 }];
    const lines = figures({ threads: { all: { gateway: groups, insurer: [], hospital: [] }, measured: { gateway: measured, insurer: [], hospital: [] } }, records: 100, measuredRecords: 50 });
    expect(value(lines, "CPU per record, gateway threads 'hdx-seal'")).toMatchObject({ value: 3, note: expect.stringContaining('2 threads; piscina') });
    expect(value(lines, "CPU per record, gateway threads 'event loop'").value).toBe(1);
    expect(value(lines, "after warm-up, gateway threads 'hdx-seal'").value).toBe(2);
    expect(figures().some((l) => l.name.includes(' threads '))).toBe(false);
  });

  it('fails the p99 target when records went missing, and sets no target above 200/s', () => {
    expect(value(figures({ result: result({ missing: 1 }) }), 'desk (p99)').meets).toBe(false);
    expect(value(figures({ rate: 400 }), 'desk (p99)')).not.toHaveProperty('target');
  });

  it('the soak is flat only if RSS grew less than 10 % over its window', () => {
    const sampler = (startMb: number, endMb: number): RssSampler => ({ samples: [], peakMb: () => endMb, window: () => ({ startMb, endMb }), stop: () => {} });
    expect(soakLines(100, sampler(200, 215), 0, 300_000, 'n')[1]!.meets).toBe(true);
    expect(soakLines(100, sampler(200, 230), 0, 300_000, 'n')[1]!.meets).toBe(false);
    expect(soakLines(100, sampler(290, 310), 0, 300_000, 'n')[1]!.meets).toBe(false);
  });
});
