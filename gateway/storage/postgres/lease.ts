/**
 * The log's leader lease, minimal: a session advisory lock on a connection of its own, held while that
 * connection lives (PostgreSQL releases it when the session ends, e.g. when the leader's process dies), and
 * tried again by `lead()` otherwise. Correctness never rests on it: integration runs under tree_head's row
 * lock and checkpoints are keyed by size, so two processes that both believe they lead still write one
 * tree. (The replicas work may replace this with gateway/storage/postgres/leader.ts.)
 */
import pg from 'pg';
import { clientConfig } from './connect.js';
import { LOCK_CLASS, LOCKS } from './locks.js';

export interface LeaderLease {
  /** Tries to take (or confirms) the lease; true while this process holds it. */
  lead(): Promise<boolean>;
  /** True if the lease was held when last seen (no round trip). */
  readonly leading: boolean;
  close(): Promise<void>;
}

export function leaderLease(connectionString: string): LeaderLease {
  let client: pg.Client | null = null;
  let leading = false;
  let trying: Promise<boolean> | null = null;
  let closed = false;

  const drop = () => {
    leading = false;
    const old = client;
    client = null;
    void old?.end().catch(() => {});
  };

  const attempt = async (): Promise<boolean> => {
    if (!client) {
      const fresh = new pg.Client(clientConfig(connectionString));
      fresh.on('error', drop); // the session (and with it the lock) is gone
      fresh.on('end', () => {
        if (client === fresh) drop();
      });
      await fresh.connect();
      client = fresh;
    }
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, LOCKS.leader]);
    leading = rows[0]!.ok;
    if (!leading) drop(); // no idle session kept by followers
    return leading;
  };

  return {
    get leading() {
      return leading;
    },
    lead() {
      if (closed) return Promise.resolve(false);
      if (leading && client) return Promise.resolve(true);
      trying ??= attempt()
        .catch(() => (drop(), false))
        .finally(() => (trying = null));
      return trying;
    },
    async close() {
      closed = true;
      await trying?.catch(() => {});
      const old = client;
      client = null;
      leading = false;
      await old?.end().catch(() => {});
    },
  };
}
