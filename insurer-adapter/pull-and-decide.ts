/**
 * `pull --adjudicate`: pull (verify → decrypt → write → acknowledge) and, for each transfer received,
 * adjudicate, sign and submit a decision. Decisions run beside the pull, a few at a time, so a slow
 * claim system does not hold up receiving. Work a crash interrupted in the inbox is finished first.
 */
import { describeError } from '../proto/errors.js';
import { adjudicateAndDecide, adjudicatePending, type Adjudicator, type DecideOutcome, type RulesModule } from './adjudicate.js';
import { readJournal } from './decision-journal.js';
import { pullTransfers, type PullOptions, type PullOutcome } from './pull.js';
import { RecentIds } from './recent-ids.js';
import type { InsurerSession } from './session.js';

export type { DecideOutcome };

/** Transfers remembered as decided here: far more than a lease's worth of redeliveries. */
const SEEN_LIMIT = 100_000;

export interface PullAndDecideOptions extends PullOptions {
  rules: Adjudicator | RulesModule;
  /** Transfers received, and decisions in flight, at once (default 8 each). */
  concurrency?: number;
  onDecision?: (outcome: DecideOutcome) => void;
}

export async function pullAndDecide(
  session: InsurerSession,
  options: PullAndDecideOptions,
): Promise<{ pulled: PullOutcome[]; decided: DecideOutcome[] }> {
  const decided: DecideOutcome[] = [];
  const report = (outcome: DecideOutcome) => {
    decided.push(outcome);
    options.onDecision?.(outcome);
  };
  for (const outcome of await adjudicatePending(session, options.outDir, options.rules)) report(outcome);

  const limit = Math.max(1, options.concurrency ?? 8);
  const inFlight = new Set<Promise<void>>();
  // A transfer offered again (its lease ended while its acknowledgement was on the way, or before a
  // crash) must not be decided anew: it waits for its decision in flight, then the journal's token is resent.
  const running = new Map<string, Promise<void>>();
  const seen = new RecentIds(SEEN_LIMIT, readJournal(options.outDir).signed.keys());
  const decide = (received: Extract<PullOutcome, { ok: true }>['received']) => {
    const { transferId } = received;
    const task = seen.has(transferId)
      ? (running.get(transferId) ?? Promise.resolve()).then(async () => {
          for (const outcome of await adjudicatePending(session, options.outDir, options.rules, { only: [transferId] })) report(outcome);
        })
      : adjudicateAndDecide(session, received, options.rules, { inbox: options.outDir }).then(
          (d) => report({ transferId, ok: true, decided: d }),
          (error: unknown) => report({ transferId, ok: false, reason: describeError(error) }),
        );
    seen.add(transferId);
    const tracked = task.finally(() => {
      inFlight.delete(tracked);
      if (running.get(transferId) === tracked) running.delete(transferId);
    });
    inFlight.add(tracked);
    running.set(transferId, tracked);
  };
  const pulled = await pullTransfers(session, {
    ...options,
    concurrency: limit,
    // Back after an outage: first finish what it left (tokens kept but not sent, transfers not decided).
    onReconnect: async (error, delayMs) => {
      await options.onReconnect?.(error, delayMs);
      await Promise.all(inFlight);
      for (const outcome of await adjudicatePending(session, options.outDir, options.rules)) report(outcome);
    },
    onOutcome: async (outcome) => {
      await options.onOutcome?.(outcome);
      // Not acknowledged yet: decided when the gateway offers it again (a decision needs an acknowledged transfer).
      if (!outcome.ok || outcome.received.acknowledgementPending) return;
      // Back-pressure: receive no faster than decisions complete.
      while (inFlight.size >= limit) await Promise.race(inFlight);
      decide(outcome.received);
    },
  });
  await Promise.all(inFlight);
  return { pulled, decided };
}
