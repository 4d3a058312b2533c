/**
 * The follow loop's backoff, without a gateway: a run that keeps failing with UNAVAILABLE is run again,
 * and the shared abort signal does not collect a listener per reconnect (Node warns at 11).
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isTransient, keepFollowing, retryUnavailable } from '../../proto/connect.js';

function unavailable(): ServiceError {
  return Object.assign(new Error('14 UNAVAILABLE: gone'), { code: status.UNAVAILABLE, details: 'gone', metadata: new Metadata() });
}

describe('keepFollowing', () => {
  it('reconnects 30 times on one signal and leaves no abort listener behind', async () => {
    const abort = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    let runs = 0;
    let listenersAtReconnect = 0;
    try {
      const results = await keepFollowing(
        async () => {
          runs += 1;
          if (runs <= 30) throw unavailable();
          return runs;
        },
        {
          signal: abort.signal,
          firstDelayMs: 1,
          maxDelayMs: 1,
          beforeReconnect: () => void (listenersAtReconnect = Math.max(listenersAtReconnect, getEventListeners(abort.signal, 'abort').length)),
        },
      );
      expect(results).toEqual([31]);
    } finally {
      process.off('warning', onWarning);
    }
    expect(listenersAtReconnect).toBe(0);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('stops waiting at once when the signal aborts mid-backoff', async () => {
    const abort = new AbortController();
    const following = keepFollowing(
      async () => {
        setImmediate(() => abort.abort());
        throw unavailable();
      },
      { signal: abort.signal, firstDelayMs: 600_000, maxDelayMs: 600_000 },
    );
    await expect(following).resolves.toEqual([]);
  });

  it('ends on an error that is not the gateway going away', async () => {
    const invalid = Object.assign(unavailable(), { code: status.INVALID_ARGUMENT });
    await expect(keepFollowing(async () => { throw invalid; }, { firstDelayMs: 1 })).rejects.toBe(invalid);
  });
});

describe('retryUnavailable', () => {
  it('retries UNAVAILABLE until the call succeeds, and rethrows anything else at once', async () => {
    let calls = 0;
    await expect(retryUnavailable(async () => (++calls < 4 ? Promise.reject(unavailable()) : 'ok'), { firstDelayMs: 1, maxDelayMs: 1 })).resolves.toBe('ok');
    expect(calls).toBe(4);
    const denied = Object.assign(unavailable(), { code: status.PERMISSION_DENIED });
    calls = 0;
    await expect(retryUnavailable(async () => (++calls, Promise.reject(denied)), { firstDelayMs: 1 })).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('counts only gateway-side failures as transient', () => {
    expect(isTransient(unavailable())).toBe(true);
    expect(isTransient(Object.assign(unavailable(), { code: status.DEADLINE_EXCEEDED }))).toBe(true);
    expect(isTransient(Object.assign(unavailable(), { code: status.FAILED_PRECONDITION }))).toBe(false);
    expect(isTransient(new Error('disk full'))).toBe(false);
  });
});
