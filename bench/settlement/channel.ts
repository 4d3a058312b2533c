/** A bench party's link to the bench: its configuration, and messages over the fork IPC channel. */
export interface PartyChannel {
  config: Record<string, unknown>;
  send(message: unknown): void;
  /** The next message from the bench. */
  next(): Promise<unknown>;
  /** Sends the last message and lets the process end. */
  finish(message: unknown): void;
}

export function partyChannel(): PartyChannel {
  if (!process.send) throw new Error('run by the settlement bench (child_process.fork)');
  const config = JSON.parse(process.env['HDX_BENCH_PARTY'] ?? '{}') as Record<string, unknown>;
  return {
    config,
    send: (message) => process.send!(message),
    next: () => new Promise((resolve) => process.once('message', resolve)),
    finish: (message) => process.send!(message, () => process.disconnect()),
  };
}
