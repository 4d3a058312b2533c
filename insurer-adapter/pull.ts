/**
 * Pulling transfers: a server stream, each transfer received (verify → decrypt → write → ack) in turn, or
 * up to `concurrency` at once (each transfer is leased on its own, so their order does not matter).
 */
import type { PullTransfersResponse } from '../proto/gen/hdx/v1/delivery.js';
import { keepFollowing } from '../proto/connect.js';
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
  /** With `follow`: the gateway went away; awaited before the stream is opened again. */
  onReconnect?: (error: Error, delayMs: number) => void | Promise<void>;
}

/**
 * Pulls until the queue is drained, or with `follow` until `signal` aborts; a gateway that goes away
 * (UNAVAILABLE) is then waited for and pulled from again (unacknowledged transfers come back when their
 * leases end).
 */
export async function pullTransfers(session: InsurerSession, options: PullOptions): Promise<PullOutcome[]> {
  const outcomes: PullOutcome[] = [];
  if (!options.follow) await pullOnce(session, options, outcomes);
  else {
    await keepFollowing(() => pullOnce(session, options, outcomes), {
      ...(options.signal && { signal: options.signal }),
      ...(options.onReconnect && { beforeReconnect: options.onReconnect }),
    });
  }
  return outcomes;
}

/** One stream; adds each transfer's outcome to `outcomes`. */
async function pullOnce(session: InsurerSession, options: PullOptions, outcomes: PullOutcome[]): Promise<void> {
  const stream = session.clients.delivery.pullTransfers({
    maxTransfers: options.max ?? 0,
    follow: options.follow ?? false,
    leaseSeconds: options.leaseSeconds ?? 0,
  });
  const stop = () => stream.cancel();
  options.signal?.addEventListener('abort', stop);
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
}
