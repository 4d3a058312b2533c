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

  /** Ends a session and waits until its backend has exited (and released its locks). */
  const kill = async (pid: number | undefined) => {
    expect(pid).toBeTypeOf('number');
    expect((await sql.query('SELECT pg_terminate_backend($1, 10000) AS done', [pid])).rows[0].done).toBe(true);
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

      // The new leader gives up its lease (a clean stop): the other takes it at its next question.
      await b.close();
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
