/**
 * Admission control for submissions. Past `limit` submissions in progress (validating, sealing, waiting
 * for their commit) a new one is refused at once with UNAVAILABLE, before any work is done, instead of
 * joining a queue whose wait grows without bound. An overloaded gateway then answers in milliseconds, the
 * hospital retries with backoff (its idempotency key makes that safe), and a call that timed out on the
 * client cannot leave behind a second copy of its work still queued: retries under overload no longer
 * multiply the load.
 */
import { Unavailable } from './errors.js';

export class AdmissionGate {
  private inFlight = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('admission limit must be a positive integer');
  }

  /** Runs `fn` if fewer than `limit` are in progress; otherwise throws `Unavailable` without running it. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) {
      throw new Unavailable(`the gateway is at capacity (${this.limit} ${this.what} in progress); retry after a short backoff`);
    }
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.inFlight -= 1;
    }
  }

  get inProgress(): number {
    return this.inFlight;
  }
}
