/**
 * Pulling transfers: a server stream, each transfer received (verify → decrypt → write → ack) in turn, or
 * up to `concurrency` at once (each transfer is leased on its own, so their order does not matter).
 */
import type { PullTransfersResponse } from '../proto/gen/hdx/v1/delivery.js';
import { describeError } from '../proto/errors.js';
import { receiveTransfer, type Received } from './receive.js';
import type { InsurerSession } from './session.js';

export type PullOutcome =
  | { transferId: string; ok: true; received: Received }
  | { transferId: string; ok: false; reason: string };

export interface PullOptions {
  outDir: string;
  max?: number;
  follow?: boolean;
  leaseSeconds?: number;
  signal?: AbortSignal;
  /** Transfers received at once (default 1): disk and acknowledgement waits overlap. */
  concurrency?: number;
  /** Called after each transfer is received and acknowledged (or refused). */
  onOutcome?: (outcome: PullOutcome) => void | Promise<void>;
}

export async function pullTransfers(session: InsurerSession, options: PullOptions): Promise<PullOutcome[]> {
  const stream = session.clients.delivery.pullTransfers({
    maxTransfers: options.max ?? 0,
    follow: options.follow ?? false,
    leaseSeconds: options.leaseSeconds ?? 0,
  });
  const stop = () => stream.cancel();
  options.signal?.addEventListener('abort', stop);
  const outcomes: PullOutcome[] = [];
  const limit = Math.max(1, options.concurrency ?? 1);
  const inFlight = new Set<Promise<void>>();
  const receive = async (transfer: NonNullable<PullTransfersResponse['transfer']>) => {
    let outcome: PullOutcome;
    try {
      outcome = { transferId: transfer.transferId, ok: true, received: await receiveTransfer(session, transfer, options.outDir) };
    } catch (error) {
      outcome = { transferId: transfer.transferId, ok: false, reason: describeError(error) };
    }
    outcomes.push(outcome);
    await options.onOutcome?.(outcome);
  };
  try {
    for await (const message of stream as AsyncIterable<PullTransfersResponse>) {
      const transfer = message.transfer;
      if (!transfer) continue;
      const task: Promise<void> = receive(transfer).finally(() => inFlight.delete(task));
      inFlight.add(task);
      while (inFlight.size >= limit) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    if (!options.signal?.aborted) throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  return outcomes;
}
