import { describe, expect, it } from 'vitest';
import { AdmissionGate } from '../../gateway/admission.js';
import { Unavailable } from '../../gateway/errors.js';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('admission control', () => {
  it('refuses past its limit without running the work, and admits again once a slot frees', async () => {
    const gate = new AdmissionGate(2, 'submissions');
    const a = deferred();
    const b = deferred();
    const first = gate.run(() => a.promise);
    const second = gate.run(() => b.promise);
    let ran = false;
    await expect(gate.run(async () => void (ran = true))).rejects.toThrow(Unavailable);
    await expect(gate.run(async () => undefined)).rejects.toThrow(/at capacity \(2 submissions in progress\); retry/);
    expect(ran).toBe(false);
    expect(gate.inProgress).toBe(2);
    a.resolve();
    await first;
    await expect(gate.run(async () => 'admitted')).resolves.toBe('admitted');
    b.reject(new Error('failed work frees its slot too'));
    await expect(second).rejects.toThrow('failed work');
    expect(gate.inProgress).toBe(0);
  });

  it('tells refused callers how long the work in progress takes to drain', async () => {
    const gate = new AdmissionGate(3, 'submissions');
    expect(gate.drainTimeMs()).toBe(100); // no history yet: a short default
    for (let i = 0; i < 3; i++) {
      await gate.run(() => new Promise((resolve) => setTimeout(resolve, 60)));
    }
    // The last three completions were ~60 ms apart: about 120 ms from the oldest to the newest.
    expect(gate.drainTimeMs()).toBeGreaterThanOrEqual(100);
    expect(gate.drainTimeMs()).toBeLessThan(1_000);
    const hold = new Promise<void>((resolve) => setTimeout(resolve, 20));
    const running = [gate.run(() => hold), gate.run(() => hold), gate.run(() => hold)];
    await expect(gate.run(async () => undefined)).rejects.toMatchObject({ retryAfterMs: gate.drainTimeMs() });
    await Promise.all(running);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new AdmissionGate(0, 'x')).toThrow(TypeError);
    expect(() => new AdmissionGate(1.5, 'x')).toThrow(TypeError);
  });
});
