import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EVENT_LOOP, sampleThreads } from '../../bench/settlement/threads.js';

// A worker that names itself as the seal workers do, busy-waits 200 ms, says so, and ends when told.
const BURN = `
const { writeFileSync } = require('node:fs');
const { parentPort } = require('node:worker_threads');
writeFileSync('/proc/thread-self/comm', 'hdx-test-burn');
const until = performance.now() + 200;
while (performance.now() < until);
parentPort.postMessage('burnt');
parentPort.once('message', () => parentPort.close());
`;

describe.runIf(process.platform === 'linux')('per-thread CPU of a process', () => {
  it('keeps a thread that ended inside the window under its own name, apart from the event loop', async () => {
    const sampler = sampleThreads(process.pid, 3_600_000); // samples only when told
    const worker = new Worker(BURN, { eval: true });
    await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    sampler.sample();
    worker.postMessage('exit');
    await new Promise((resolve) => worker.once('exit', resolve));
    sampler.stop();
    const groups = sampler.groups();
    const burn = groups.find((g) => g.name === 'hdx-test-burn');
    expect(burn?.threads).toBe(1);
    expect(burn!.ms).toBeGreaterThan(0);
    expect(groups.find((g) => g.name === EVENT_LOOP)?.threads).toBe(1);
    // From the last sample on, the ended thread is out of the window.
    expect(sampler.groups(Date.now() + 1).some((g) => g.name === 'hdx-test-burn')).toBe(false);
  });
});
