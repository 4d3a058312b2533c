/**
 * The machine's floors under the gateway, measured in the same run as its figures: a bare grpc-js unary
 * echo over the same mutual TLS the gateway serves (certificates from a fresh development exchange, a
 * submission-sized request), and SQLite group commit at synchronous=FULL in WAL mode, as the gateway's
 * database is opened (one row per commit, then batches), and, when the run benches PostgreSQL, the same
 * against the run's durable cluster (synchronous_commit on, one connection over its Unix socket). The
 * product's lines name these as their floors.
 */
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initExchange } from '../keys/exchange/init.js';
import { loadGatewayIdentity, loadPartyIdentity } from '../keys/exchange/load.js';
import { benchDir } from './scratch.js';
import type { BenchLine, BenchOptions } from './types.js';

export const FLOOR_GRPC_MTLS = 'floor: grpc-js unary echo over mTLS, 19 KB request';
export const FLOOR_SQLITE_COMMITS = 'floor: SQLite commits at synchronous=FULL, 1 row each';
export const FLOOR_SQLITE_ROWS = 'floor: SQLite rows at synchronous=FULL, 64 per commit';
export const FLOOR_POSTGRES_COMMITS = 'floor: PostgreSQL commits at synchronous_commit=on, 1 row each';
export const FLOOR_POSTGRES_ROWS = 'floor: PostgreSQL rows at synchronous_commit=on, 64 per commit';

const REQUEST_BYTES = 19 * 1024;
const IN_FLIGHT = 32;

/** Calls/s of a unary echo with IN_FLIGHT calls outstanding (closed loop), client and server in this process. */
async function grpcMtlsEchoRate(exchangeDir: string, gatewayDir: string, seconds: number): Promise<number> {
  const identity = (b: Buffer) => b;
  const definition: ServiceDefinition = {
    echo: { path: '/bench.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  const gateway = loadGatewayIdentity(gatewayDir);
  const party = loadPartyIdentity(join(exchangeDir, 'parties', 'nanshan-people'));
  const server = new Server({ 'grpc.max_receive_message_length': 1024 * 1024 });
  const reply = randomBytes(200); // about a submission receipt
  server.addService(definition, { echo: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, reply) });
  const serverCreds = ServerCredentials.createSsl(gateway.tls.ca, [{ private_key: gateway.tls.key, cert_chain: gateway.tls.cert }], true);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', serverCreds, (e, p) => (e ? rej(e) : res(p))));
  const Client = makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`localhost:${port}`, credentials.createSsl(party.tls.ca, party.tls.key, party.tls.cert)) as unknown as {
    echo(b: Buffer, cb: (e: Error | null, r: Buffer) => void): void;
    close(): void;
  };
  const request = randomBytes(REQUEST_BYTES);
  const call = () => new Promise<void>((res, rej) => client.echo(request, (e) => (e ? rej(e) : res())));
  try {
    for (let i = 0; i < 200; i++) await call(); // handshake and warm-up
    let done = 0;
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          await call();
          done += 1;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  } finally {
    client.close();
    server.forceShutdown();
  }
}

/** Commits/s and rows/s into a WAL database at synchronous=FULL, each commit one fsync. */
function sqliteGroupCommit(dir: string, seconds: number, rowsPerCommit: number): { commits: number; rows: number } {
  const db = new Database(join(dir, `commit-${rowsPerCommit}.db`));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = randomBytes(512); // a transfer's row without its payload
    const commit = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run(body);
    });
    for (let i = 0; i < 20; i++) commit(rowsPerCommit);
    let commits = 0;
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    while (performance.now() < end) {
      commit(rowsPerCommit);
      commits += 1;
    }
    const elapsed = (performance.now() - start) / 1000;
    return { commits: commits / elapsed, rows: (commits * rowsPerCommit) / elapsed };
  } finally {
    db.close();
  }
}

/** The same against PostgreSQL: one connection, BEGIN, `rowsPerCommit` single-row INSERTs, COMMIT (one WAL flush). */
async function postgresGroupCommit(url: string, seconds: number, rowsPerCommit: number): Promise<{ commits: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE t${rowsPerCommit} (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)`);
    const insert = { name: `insert-${rowsPerCommit}`, text: `INSERT INTO t${rowsPerCommit} (body) VALUES ($1)` };
    const body = randomBytes(512);
    const commit = async () => {
      await client.query('BEGIN');
      for (let i = 0; i < rowsPerCommit; i++) await client.query({ ...insert, values: [body] });
      await client.query('COMMIT');
    };
    for (let i = 0; i < 20; i++) await commit();
    let commits = 0;
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    while (performance.now() < end) {
      await commit();
      commits += 1;
    }
    const elapsed = (performance.now() - start) / 1000;
    return { commits: commits / elapsed, rows: (commits * rowsPerCommit) / elapsed };
  } finally {
    await client.end();
  }
}

async function postgresFloors(options: BenchOptions, seconds: number): Promise<BenchLine[]> {
  if (!options.postgresDatabase) return [];
  const url = await options.postgresDatabase();
  const single = await postgresGroupCommit(url, seconds, 1);
  const batched = await postgresGroupCommit(url, seconds, 64);
  return [
    { name: FLOOR_POSTGRES_COMMITS, value: single.commits, unit: 'commits/s', note: 'fsync on, one WAL flush per commit, 512 B rows, one connection on a Unix socket' },
    { name: FLOOR_POSTGRES_ROWS, value: batched.rows, unit: 'rows/s', note: `${Math.round(batched.commits)} commits/s of 64 single-row INSERTs (a round trip each)` },
  ];
}

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const seconds = options.quick ? 1 : 3;
  const root = mkdtempSync(join(benchDir(), 'floors-'));
  try {
    const exchange = await initExchange(join(root, 'exchange'));
    const echo = await grpcMtlsEchoRate(exchange.dir, exchange.gateway.dir, seconds);
    const single = sqliteGroupCommit(root, seconds, 1);
    const batched = sqliteGroupCommit(root, seconds, 64);
    return [
      { name: FLOOR_GRPC_MTLS, value: echo, unit: 'calls/s', note: `${IN_FLIGHT} in flight, 200 B reply, client and server in one process, the gateway's certificates` },
      { name: FLOOR_SQLITE_COMMITS, value: single.commits, unit: 'commits/s', note: 'WAL, one fsync per commit, 512 B rows' },
      { name: FLOOR_SQLITE_ROWS, value: batched.rows, unit: 'rows/s', note: `${Math.round(batched.commits)} commits/s of 64 rows; what group commit can reach` },
      ...(await postgresFloors(options, seconds)),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
