/**
 * The PostgreSQL Notifier against a real throwaway cluster (test/support/postgres.ts): two notifiers on
 * one database stand for two replicas.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyQuery, PostgresNotifier } from '../../gateway/storage/postgres/notifier.js';
import type { Channel } from '../../gateway/storage/store.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

/** Everything a channel delivers, and a promise for the moment it has delivered `payload`. */
function record(notifier: PostgresNotifier, channel: Channel) {
  const seen: string[] = [];
  const waiters: Array<{ payload: string; resolve: () => void }> = [];
  notifier.subscribe(channel, (payload) => {
    seen.push(payload);
    for (const w of waiters.filter((w) => w.payload === payload)) w.resolve();
  });
  return {
    seen,
    heard: (payload: string) =>
      seen.includes(payload) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ payload, resolve })),
  };
}

describe.runIf(postgresAvailable())('the PostgreSQL notifier', () => {
  let db: TestDatabase;
  let a: PostgresNotifier;
  let b: PostgresNotifier;
  let sql: pg.Client;

  beforeAll(async () => {
    db = await testDatabase();
    a = await PostgresNotifier.open(db.config, { backoffMs: 10 });
    b = await PostgresNotifier.open(db.config, { backoffMs: 10 });
    sql = new pg.Client(db.config);
    await sql.connect();
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), sql?.end()]);
    await db?.drop();
  });

  it('a publish reaches the other replica, and this process once', async () => {
    const there = record(b, 'transfer:taikang-online');
    const here = record(a, 'transfer:taikang-online');
    a.publish('transfer:taikang-online', 'one');
    expect(here.seen).toEqual(['one']); // at once, before any round trip
    await there.heard('one');
    // b's own publish comes back to a after a's; by then a's echo (if it were kept) would have arrived too.
    b.publish('transfer:taikang-online', 'marker');
    await here.heard('marker');
    expect(here.seen).toEqual(['one', 'marker']);
    expect(there.seen).toEqual(['one', 'marker']);
  });

  it('channel names and payloads that are not SQL identifiers travel intact', async () => {
    const odd = `decision:a|b'"; DROP TABLE x; --` as Channel;
    const there = record(b, odd);
    a.publish(odd, `|'"\\ 病历`);
    await there.heard(`|'"\\ 病历`);
    expect(there.seen).toEqual([`|'"\\ 病历`]);
  });

  it('a notification inside a transaction is delivered only on COMMIT, never after ROLLBACK of its savepoint or transaction', async () => {
    const there = record(b, 'decision:szu-general');
    await sql.query('BEGIN');
    await sql.query(notifyQuery('decision:szu-general', 'committed'));
    await sql.query('SAVEPOINT item');
    await sql.query(notifyQuery('decision:szu-general', 'savepoint rolled back'));
    await sql.query('ROLLBACK TO SAVEPOINT item');
    // Another session's message, committed while ours is open, arrives while ours has not.
    a.publish('decision:szu-general', 'while open');
    await there.heard('while open');
    expect(there.seen).toEqual(['while open']);
    await sql.query('COMMIT');
    await there.heard('committed');

    await sql.query('BEGIN');
    await sql.query(notifyQuery('decision:szu-general', 'transaction rolled back'));
    await sql.query('ROLLBACK');
    a.publish('decision:szu-general', 'after');
    await there.heard('after');
    expect(there.seen).toEqual(['while open', 'committed', 'after']);
  });

  it('a burst of publishes goes out one query at a time on the LISTEN connection, and all arrive', async () => {
    // node-postgres warns (and pg 9 will refuse) when a query is sent while another runs on the client.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const there = record(b, 'transfer:burst');
      const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
      for (const payload of sent) a.publish('transfer:burst', payload);
      await there.heard('m49');
      // Node emits 'warning' on a later tick: let one NOTIFY round trip pass after the last.
      a.publish('transfer:burst', 'last');
      await there.heard('last');
      await new Promise((resolve) => setImmediate(resolve));
      expect(there.seen).toEqual([...sent, 'last']);
      expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reconnects when its connection is killed, wakes its subscribers, and hears the others again', async () => {
    const there = record(b, 'registry');
    const pid = b.backendPid;
    expect(pid).toBeTypeOf('number');
    await sql.query('SELECT pg_terminate_backend($1)', [pid]);
    await there.heard(''); // the wake-up after the reconnect: what was sent in the gap is lost
    expect(b.connections).toBe(2);
    expect(b.backendPid).not.toBe(pid);
    a.publish('registry', 'after the gap');
    await there.heard('after the gap');
  });
});
