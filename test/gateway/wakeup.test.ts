/** The stream wakeup, on fake timers: what it must not wait for it resolves without any time passing. */
import { LocalNotifier } from '../../gateway/storage/local-notifier.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Wakeup } from '../../gateway/wakeup.js';

/** Lets settled promises run their callbacks (no timer moves). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('Wakeup', () => {
  it('remembers a signal that came after the query and before the wait', async () => {
    const events = new LocalNotifier();
    const wakeup = new Wakeup(events, 'transfer:x');
    wakeup.reset(); // "query"
    events.publish('transfer:x'); // work arrives while the query's answer is being sent
    let woke = false;
    void wakeup.wait(5_000, new AbortController().signal).then(() => (woke = true));
    await settle();
    expect(woke).toBe(true);
    wakeup.close();
  });

  it('waits for a signal after reset, and forgets ones the query already answered', async () => {
    const events = new LocalNotifier();
    const wakeup = new Wakeup(events, 'transfer:x');
    events.publish('transfer:x');
    wakeup.reset();
    let woke = false;
    const waiting = wakeup.wait(5_000, new AbortController().signal).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(woke).toBe(false);
    events.publish('transfer:x');
    await waiting;
    expect(woke).toBe(true);
    wakeup.close();
    expect(events.listenerCount('transfer:x')).toBe(0);
  });

  it('returns on timeout and on abort', async () => {
    const wakeup = new Wakeup(new LocalNotifier(), 'transfer:e');
    let timedOut = false;
    void wakeup.wait(20, new AbortController().signal).then(() => (timedOut = true));
    await vi.advanceTimersByTimeAsync(19);
    expect(timedOut).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(timedOut).toBe(true);
    const abort = new AbortController();
    let aborted = false;
    void wakeup.wait(5_000, abort.signal).then(() => (aborted = true));
    abort.abort();
    await settle();
    expect(aborted).toBe(true);
    wakeup.close();
  });
});
