/**
 * Batch calls (`AcknowledgeTransfers`, `SubmitDecisions`): each item runs through the single-item domain
 * function, so its authorization, checks and refusals are exactly those of the unary call; all items
 * start in the same turn, so their commits share one group-commit transaction (`storage/committer.ts`).
 * One outcome per item, in order; a refused item does not fail the batch.
 */
import { InvalidInput } from './errors.js';

export const MAX_BATCH_ITEMS = 256;

export type ItemOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function eachItem<Req, Res>(items: readonly Req[], run: (item: Req) => Promise<Res>): Promise<ItemOutcome<Res>[]> {
  if (items.length === 0) throw new InvalidInput('the batch is empty');
  if (items.length > MAX_BATCH_ITEMS) throw new InvalidInput(`a batch holds at most ${MAX_BATCH_ITEMS} items`);
  const settled = await Promise.allSettled(items.map((item) => run(item)));
  return settled.map((s) => (s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: s.reason }));
}
