/**
 * The PostgreSQL engine's Notifier: wake-ups across replicas through LISTEN/NOTIFY, fanned out in each
 * process by a LocalNotifier.
 *
 * - **One PostgreSQL channel, `hdx`.** hdx's channels (`transfer:<insurer>`, …) are not SQL identifiers;
 *   rather than quote them, every message goes to `hdx` with the JSON payload `[origin, channel, payload]`
 *   through `pg_notify($1, $2)`, so nothing is ever spliced into SQL.
 * - **One dedicated connection** LISTENs (a pooled one would be handed to others). When it is lost it
 *   reconnects with exponential backoff; on each reconnect every channel with subscribers here is woken
 *   with an empty payload, since messages sent meanwhile are lost (subscribers also poll: best effort).
 * - **`publish`** delivers here at once and NOTIFYs the others; its own echo (this notifier's origin) is
 *   dropped. **`tx.notify`** is `notifyQuery` run by the committer inside the item's transaction (its
 *   savepoint): PostgreSQL delivers it only on COMMIT and discards it if the savepoint or the transaction
 *   rolls back; it reaches this process through LISTEN like any replica's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LocalNotifier } from '../local-notifier.js';
import type { Channel, Notifier } from '../store.js';

/** The one PostgreSQL channel hdx uses. */
export const PG_CHANNEL = 'hdx';

/** What a transaction runs to notify every replica on COMMIT (the committer's `tx.notify`). */
export function notifyQuery(channel: Channel, payload = '', origin = ''): pg.QueryConfig<[string, string]> {
  return { text: 'SELECT pg_notify($1, $2)', values: [PG_CHANNEL, JSON.stringify([origin, channel, payload])] };
}

export interface PostgresNotifierOptions {
  /** First reconnect delay (ms, default 100), doubled up to `maxBackoffMs` (default 5000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Told when the connection is lost or a reconnect fails (log the error's name: messages may carry data). */
  onError?: (error: Error) => void;
}

export class PostgresNotifier implements Notifier {
  private readonly local = new LocalNotifier();
  private readonly origin = randomUUID();
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private sending: Promise<void> = Promise.resolve();
  /** Connections made so far (tests watch reconnects). */
  connections = 0;

  private constructor(private readonly config: pg.ClientConfig, private readonly options: PostgresNotifierOptions) {}

  /** Connects and LISTENs before resolving, so nothing published after start is missed. */
  static async open(config: pg.ClientConfig, options: PostgresNotifierOptions = {}): Promise<PostgresNotifier> {
    const notifier = new PostgresNotifier(config, options);
    await notifier.connect();
    return notifier;
  }

  publish(channel: Channel, payload = ''): void {
    this.local.publish(channel, payload);
    // One query at a time on the connection (node-postgres's own queue is deprecated); without a
    // connection the other replicas miss this one, and poll.
    this.sending = this.sending.then(() =>
      this.client?.query(notifyQuery(channel, payload, this.origin)).then(
        () => {},
        (error: Error) => this.options.onError?.(error),
      ),
    );
  }

  subscribe(channel: Channel, listener: (payload: string) => void): () => void {
    return this.local.subscribe(channel, listener);
  }

  listenerCount(channel: Channel): number {
    return this.local.listenerCount(channel);
  }

  /** The LISTENing connection's backend pid (tests end it with pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.config, keepAlive: true });
    client.on('notification', (message) => this.deliver(message.channel, message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    try {
      await client.query(`LISTEN ${PG_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.failures = 0;
    if (this.connections++ > 0) this.wakeAll();
  }

  private deliver(pgChannel: string, text: string | undefined): void {
    if (pgChannel !== PG_CHANNEL || text === undefined) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return; // not ours
    }
    if (!Array.isArray(message) || message.length !== 3 || !message.every((part) => typeof part === 'string')) return;
    const [origin, channel, payload] = message as [string, Channel, string];
    if (origin === this.origin) return; // delivered here when published
    this.local.publish(channel, payload);
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client) return; // a failed attempt, or already handled
    this.client = undefined;
    client.end().catch(() => {});
    if (error) this.options.onError?.(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const base = this.options.backoffMs ?? 100;
    const delay = Math.min(base * 2 ** this.failures, this.options.maxBackoffMs ?? 5000);
    this.failures++;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().catch((error: Error) => {
        this.options.onError?.(error);
        this.scheduleReconnect();
      });
    }, delay);
    this.retry.unref();
  }

  /** After a gap, every channel subscribed here is woken: what was sent meanwhile is lost. */
  private wakeAll(): void {
    for (const channel of this.local.channels()) {
      // `audit` carries the committed size; an empty payload would read as 0, which its listeners ignore.
      if (channel !== 'audit') this.local.publish(channel, '');
    }
  }
}
