/**
 * Client side of the batch RPCs: calls made in the same turn of the event loop (an insurer
 * acknowledging or deciding a pulled batch) go out as one batch call, and each caller gets its own
 * item's answer. A refused item rejects like the unary call would (a ServiceError with its code and
 * message), so callers handle both the same way.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ItemStatus } from './gen/hdx/v1/common.js';

const MAX_ITEMS = 256;

export type ItemResult<Res> = { value: Res } | { refused: ItemStatus };

export function coalescing<Req, Res>(sendBatch: (items: Req[]) => Promise<ItemResult<Res>[]>): (item: Req) => Promise<Res> {
  let queue: Array<{ item: Req; resolve: (r: Res) => void; reject: (e: unknown) => void }> = [];
  const flush = () => {
    const pending = queue;
    queue = [];
    for (let i = 0; i < pending.length; i += MAX_ITEMS) {
      const chunk = pending.slice(i, i + MAX_ITEMS);
      sendBatch(chunk.map((q) => q.item)).then(
        (results) =>
          chunk.forEach((q, j) => {
            const r = results[j];
            if (r && 'value' in r) q.resolve(r.value);
            else q.reject(serviceErrorOf(r?.refused));
          }),
        (error: unknown) => chunk.forEach((q) => q.reject(error)),
      );
    }
  };
  return (item) =>
    new Promise<Res>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ item, resolve, reject });
    });
}

function serviceErrorOf(refused: ItemStatus | undefined): ServiceError {
  const code = refused?.code ?? 2;
  const details = refused?.message ?? 'no result for this item';
  const metadata = new Metadata();
  if (refused?.retryAfterMs) metadata.set('grpc-retry-pushback-ms', String(refused.retryAfterMs));
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}
