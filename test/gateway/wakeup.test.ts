import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Wakeup } from '../../gateway/wakeup.js';

describe('Wakeup', () => {
  it('remembers a signal that came after the query and before the wait', async () => {
    const events = new EventEmitter();
    const wakeup = new Wakeup(events, 'transfer:x');
    wakeup.reset(); // "query"
    events.emit('transfer:x'); // work arrives while the query's answer is being sent
    const started = performance.now();
    await wakeup.wait(5_000, new AbortController().signal);
    expect(performance.now() - started).toBeLessThan(100);
    wakeup.close();
  });

  it('waits for a signal after reset, and forgets ones the query already answered', async () => {
    const events = new EventEmitter();
    const wakeup = new Wakeup(events, 'transfer:x');
    events.emit('transfer:x');
    wakeup.reset();
    let woke = false;
    const waiting = wakeup.wait(5_000, new AbortController().signal).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(woke).toBe(false);
    events.emit('transfer:x');
    await waiting;
    expect(woke).toBe(true);
    wakeup.close();
    expect(events.listenerCount('transfer:x')).toBe(0);
  });

  it('returns on timeout and on abort', async () => {
    const wakeup = new Wakeup(new EventEmitter(), 'e');
    const started = performance.now();
    await wakeup.wait(20, new AbortController().signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    const abort = new AbortController();
    const waiting = wakeup.wait(5_000, abort.signal);
    abort.abort();
    await waiting;
    wakeup.close();
  });
});
