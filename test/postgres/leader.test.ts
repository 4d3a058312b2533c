/**
 * The leader lease against a real throwaway cluster: two replicas' leases on one database, one leads; the
 * leader's session killed, the other takes over.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderLease } from '../../gateway/storage/postgres/leader.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

const KEY = [0x68647800, 2] as const;

describe.runIf(postgresAvailable())('the leader lease', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  beforeAll(async () => {
    db = await testDatabase();
    sql = new pg.Client(db.config);
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  /** Whether a session still holds any lock (its backend has not yet released them on exit). */
  const holdsLocks = async (pid: number | undefined) =>
    (await sql.query<{ held: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1) AS held', [pid])).rows[0]!.held;

  /**
   * Ends a session and waits, on the condition itself, until its backend has let go of its locks: the
   * takeover below follows from that, not from how long it took (bounded by the test's timeout only).
   */
  const kill = async (pid: number | undefined) => {
    expect(pid).toBeTypeOf('number');
    expect((await sql.query('SELECT pg_terminate_backend($1) AS done', [pid])).rows[0].done).toBe(true);
    while (await holdsLocks(pid)) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('only one of two leads; when the leader’s session is killed the other takes over, and the old one does not lead again', async () => {
    const lost: string[] = [];
    const a = new LeaderLease(db.config, { key: KEY, onLost: () => lost.push('a') });
    const b = new LeaderLease(db.config, { key: KEY, onLost: () => lost.push('b') });
    try {
      expect(await a.lead()).toBe(true);
      expect(await b.lead()).toBe(false);
      // Asked again (as the checkpointer does every tick): the same answers, from the database.
      expect(await Promise.all([a.lead(), a.lead(), b.lead()])).toEqual([true, true, false]);

      await kill(a.backendPid);
      expect(await b.lead()).toBe(true);
      expect(await a.lead()).toBe(false);
      expect(a.leading).toBe(false);
      expect(lost).toEqual(['a']);

      // The new leader gives up its lease (a clean stop): close() resolves once its session has let go of
      // the lock (not polled: that is what close() promises), so the other takes it at its next question.
      const bPid = b.backendPid;
      await b.close();
      expect(await holdsLocks(bPid)).toBe(false);
      expect(await a.lead()).toBe(true);
      expect(lost).toEqual(['a', 'b']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a leader whose session was killed between questions says so at the next one', async () => {
    const a = new LeaderLease(db.config, { key: KEY });
    try {
      expect(await a.lead()).toBe(true);
      const pid = a.backendPid;
      await kill(pid);
      // Whether or not the connection's end was noticed yet, the answer comes from a live session.
      expect(await a.lead()).toBe(true); // nobody else wanted it: taken again on a new session
      expect(a.backendPid).not.toBe(pid);
    } finally {
      await a.close();
    }
  });

  it('without a database it does not lead', async () => {
    const a = new LeaderLease({ ...db.config, database: 'no_such_database' }, { key: KEY });
    expect(await a.lead()).toBe(false);
    await a.close();
  });
});
