/** One refused item of a batch or stream, as the wire's `ItemStatus`: the status its unary call would end with. */
import type { ItemStatus } from '../../proto/gen/hdx/v1/common.js';
import type { CallContext } from '../context.js';
import { toWireError } from './status.js';
import type { Runtime } from './wrap.js';

export function itemStatusOf(rt: Runtime, method: string, ctx: CallContext, error: unknown): ItemStatus {
  const wire = toWireError(error);
  if (wire.internal) {
    // The error's class and frames only: its message may quote input.
    const err = error as { name?: string; stack?: string };
    rt.logger.error({ method, party: ctx.party.id, error: err?.name, frames: err?.stack?.split('\n').slice(1, 6).join('\n') }, 'item failed');
  }
  return { code: wire.code, message: wire.details, retryAfterMs: wire.retryAfterMs ?? 0 };
}
