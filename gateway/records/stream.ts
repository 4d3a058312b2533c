/**
 * Streamed submission (`SubmitRecords`): many records over one call. Every record goes through
 * `submitRecord`, the single-record path, so authorization, validation, consent, idempotency, admission
 * and refusals are exactly those of `SubmitRecord`; a refused record gets its error as its own outcome and
 * the stream goes on. Up to `window` records are in progress at once; their seals reach the pool in the
 * same turns and so travel together (`seal/sealer.ts`), and their commits share transactions
 * (`storage/committer.ts`).
 */
import type { Gateway } from '../app.js';
import type { CallContext } from '../context.js';
import { submitRecord, type SubmitRequest, type SubmitResult } from './service.js';

export interface StreamedRecord {
  sequence: number;
  request: SubmitRequest;
}

export type StreamedOutcome = { sequence: number; result: SubmitResult } | { sequence: number; error: unknown };

export const DEFAULT_STREAM_WINDOW = 32;

export async function submitRecords(
  gw: Gateway,
  ctx: CallContext,
  records: AsyncIterable<StreamedRecord>,
  send: (outcome: StreamedOutcome) => Promise<void>,
  window = DEFAULT_STREAM_WINDOW,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const { sequence, request } of records) {
    const item = submitRecord(gw, ctx, request)
      .then(
        (result) => send({ sequence, result }),
        (error: unknown) => send({ sequence, error }),
      )
      .catch((error: unknown) => {
        // `send` itself failed (the caller is no longer allowed): the stream ends with that.
        failure ??= { error };
      })
      .finally(() => inFlight.delete(item));
    inFlight.add(item);
    if (failure) break;
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
}
