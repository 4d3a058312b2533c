/**
 * Admission control for submissions. Past `limit` submissions in progress (validating, sealing, waiting
 * for their commit) a new one is refused at once with UNAVAILABLE, before any work is done, instead of
 * joining a queue whose wait grows without bound. An overloaded gateway then answers in milliseconds, the
 * hospital retries with backoff (its idempotency key makes that safe), and a call that timed out on the
 * client cannot leave behind a second copy of its work still queued: retries under overload no longer
 * multiply the load. The refusal says when to come back: how long the last `limit` admitted calls took to
 * complete, i.e. about how long the work now in progress needs to drain (`grpc-retry-pushback-ms`).
 */
import { Unavailable } from './errors.js';

const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;

export class AdmissionGate {
  private inFlight = 0;
  /** Completion times (performance.now()) of the last `limit` admitted calls, as a ring. */
  private readonly completions: number[] = [];
  private next = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('admission limit must be a positive integer');
  }

  /** Runs `fn` if fewer than `limit` are in progress; otherwise throws `Unavailable` without running it. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) {
      throw new Unavailable(`the gateway is at capacity (${this.limit} ${this.what} in progress); retry after a short backoff`, {
        retryAfterMs: this.drainTimeMs(),
      });
    }
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.inFlight -= 1;
      this.completions[this.next] = performance.now();
      this.next = (this.next + 1) % this.limit;
    }
  }

  /** How long the last `limit` completions took: about how long the calls in progress need to drain. */
  drainTimeMs(): number {
    if (this.completions.length < this.limit) return MIN_RETRY_MS * 2;
    const newest = this.completions[(this.next + this.limit - 1) % this.limit]!;
    const oldest = this.completions[this.next]!;
    return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, newest - oldest));
  }

  get inProgress(): number {
    return this.inFlight;
  }
}
