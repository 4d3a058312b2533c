/** The test cluster itself: a database per file, reachable over the socket, gone after drop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

describe.runIf(postgresAvailable())('test PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(() => db?.drop());

  it('serves this file its own database over a Unix socket only', async () => {
    const client = new pg.Client(db.config);
    await client.connect();
    try {
      const row = (await client.query("SELECT current_database() AS name, current_setting('listen_addresses') AS tcp")).rows[0];
      expect(row).toEqual({ name: db.config.database, tcp: '' });
    } finally {
      await client.end();
    }
  });
});
