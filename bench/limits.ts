/**
 * The time limits that used to be asserted in unit tests (where a loaded machine failed them): a million
 * Merkle leaves, adversarial detector inputs, many short scrubs. Measured here, beside their targets.
 */
import { detect, knownValuesFromPatient, scrub } from '../gateway/deid/detectors/index.js';
import { leafHash, rootFromLeaves } from '../keys/transparency/merkle.js';
import type { BenchLine, BenchOptions } from './types.js';

function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export async function bench({ quick }: BenchOptions): Promise<BenchLine[]> {
  const leaves = quick ? 100_000 : 1_000_000;
  const h = leafHash(Buffer.from('same'));
  const merkleMs = timed(() => rootFromLeaves(new Array<Buffer>(leaves).fill(h)));
  const merkleTarget = (8_000 * leaves) / 1_000_000;

  const adversarial = [
    `${'12.'.repeat(30_000)}`,
    `http://${'a'.repeat(100_000)}`,
    '粤B1'.repeat(30_000),
    '住院号：'.repeat(20_000),
    `${'1 '.repeat(50_000)}`,
    `${'1234 '.repeat(20_000)}`,
  ];
  const worstMs = Math.max(
    ...adversarial.map((text) => timed(() => detect(text, { known: { values: ['张三', '13800138000'] }, recordNumberPatterns: [/ZY\d{8}/] }))),
  );

  const known = knownValuesFromPatient({ name: [{ text: '张三' }], telecom: [{ system: 'phone', value: '13800138000' }] });
  const strings = ['急性前壁心肌梗死', 'I21.0', '2024-03-05T08:30:00+08:00', '阿司匹林肠溶片 100mg 口服 每日一次', 'final'];
  const scrubMs = timed(() => {
    for (let i = 0; i < 20_000; i++) scrub(strings[i % strings.length]!, { known });
  });

  return [
    { name: `merkle root of ${leaves.toLocaleString('en-US')} leaves`, value: merkleMs, unit: 'ms', target: `< ${merkleTarget} ms`, meets: merkleMs < merkleTarget },
    { name: 'detect: slowest of 6 adversarial inputs (60–100k chars)', value: worstMs, unit: 'ms', target: '< 1000 ms (linear)', meets: worstMs < 1_000 },
    { name: 'scrub 20,000 short clinical strings', value: scrubMs, unit: 'ms', target: '< 2000 ms', meets: scrubMs < 2_000 },
  ];
}
