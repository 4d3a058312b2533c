/**
 * A real PostgreSQL for the tests: `initdb` a throwaway cluster in a temporary folder, serve it on a Unix
 * socket in that folder only (no TCP), hand each engine test file its own database (`testDatabase`) and each
 * store the harness opens one per data folder (`storeDatabaseUrl`), and stop and delete it all afterwards. Used as a vitest globalSetup (one cluster per run) and, in test files, through `testDatabase()`.
 *
 * The cluster starts for every run that may hold a PostgreSQL test: the whole suite, HDX_TEST_STORE=postgres,
 * HDX_TEST_POSTGRES=1, or file filters naming test/storage or test/postgres (`vitest run test/audit` is
 * spared the seconds of initdb). When PostgreSQL is not installed or cannot start, the run fails, naming
 * why — it never passes without having tested the engine — unless HDX_ALLOW_NO_POSTGRES=1: then it says
 * loudly that the engine goes untested, and the engine's tests skip.
 *
 * initdb and postgres refuse to run as root: as root (CI, this machine) they run as the `postgres` user,
 * who is given the temporary folder.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';

/** How test files reach the cluster (through vitest's provide/inject). */
export interface PostgresCluster {
  /** The folder holding the socket: node-postgres's `host`. */
  host: string;
  port: number;
  user: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    hdxPostgres: PostgresCluster | null;
  }
}

/** Whether this run may need the cluster (see the header); `filters` are vitest's file filters. */
export function wanted(env: NodeJS.ProcessEnv = process.env, filters: readonly string[] = []): boolean {
  if (env.HDX_TEST_STORE === 'postgres' || env.HDX_TEST_POSTGRES === '1') return true;
  if (filters.length === 0) return true;
  const engineFiles = ['test/storage/contract.test.ts', 'test/postgres/cluster.test.ts'];
  return filters.some((f) => /storage|postgres/.test(f) || engineFiles.some((file) => file.includes(f)));
}

/** PostgreSQL's absence is tolerated (and said so) only when asked for. */
export function absenceAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.HDX_ALLOW_NO_POSTGRES === '1';
}

// ---- vitest globalSetup -------------------------------------------------------------------------------

let running: RunningCluster | null = null;

export async function setup(project: TestProject): Promise<void> {
  // vitest's file filters (internal field; without it every run counts as the whole suite).
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  if (!wanted(process.env, filters)) {
    project.provide('hdxPostgres', null);
    return;
  }
  try {
    running = await startCluster();
  } catch (error) {
    if (!absenceAllowed()) throw error;
    console.error(`\n*** HDX_ALLOW_NO_POSTGRES=1: the PostgreSQL engine is NOT tested in this run. ${(error as Error).message}\n`);
    project.provide('hdxPostgres', null);
    return;
  }
  project.provide('hdxPostgres', running.cluster);
}

export async function teardown(): Promise<void> {
  await running?.stop();
  running = null;
}

// ---- test files ---------------------------------------------------------------------------------------

export interface TestDatabase {
  /** node-postgres connection settings for this file's own database. */
  config: pg.ClientConfig & { host: string; port: number; user: string; database: string };
  /** The same as a libpq URL (socket folder in `host=`). */
  url: string;
  /** Drops the database (closing whatever still holds a connection to it). */
  drop(): Promise<void>;
}

/**
 * Whether the engine's tests can run here: true with a cluster; false only under HDX_ALLOW_NO_POSTGRES=1
 * (they skip, after setup said so). A run that never wanted a cluster but reaches a PostgreSQL test fails
 * in `testDatabase()` rather than skip.
 */
export function postgresAvailable(): boolean {
  return inject('hdxPostgres') !== null || !absenceAllowed();
}

/** A fresh, empty database in the run's cluster. Throws unless the run started one (see `wanted`). */
export async function testDatabase(): Promise<TestDatabase> {
  const cluster = inject('hdxPostgres');
  if (!cluster) {
    throw new Error('no PostgreSQL cluster in this run: name the test file in the filters, or set HDX_TEST_POSTGRES=1');
  }
  const database = `hdx_test_${randomBytes(6).toString('hex')}`;
  await admin(cluster, `CREATE DATABASE ${database} TEMPLATE template0 ENCODING 'UTF8'`);
  const config = { host: cluster.host, port: cluster.port, user: cluster.user, database };
  return {
    config,
    url: urlOf(cluster, database),
    drop: () => admin(cluster, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

/**
 * The database of the store opened on `dataDir` (created on first use): one per data folder, so a gateway
 * restarted on its folder finds its state again, and two gateways of one test file never share one.
 * Dropped with the cluster at the end of the run.
 */
export async function storeDatabaseUrl(dataDir: string): Promise<string> {
  const cluster = inject('hdxPostgres');
  if (!cluster) throw new Error('HDX_TEST_STORE=postgres, but this run has no PostgreSQL cluster (see test/support/postgres.ts)');
  const database = `hdx_store_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`;
  try {
    await admin(cluster, `CREATE DATABASE ${database} TEMPLATE template0 ENCODING 'UTF8'`);
  } catch (error) {
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  }
  return urlOf(cluster, database);
}

const DUPLICATE_DATABASE = '42P04';

const urlOf = (cluster: PostgresCluster, database: string) =>
  `postgresql://${encodeURIComponent(cluster.user)}@/${database}?host=${encodeURIComponent(cluster.host)}&port=${cluster.port}`;

async function admin(cluster: PostgresCluster, sql: string): Promise<void> {
  const client = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// ---- the cluster ----------------------------------------------------------------------------------------

export interface RunningCluster {
  cluster: PostgresCluster;
  stop(): Promise<void>;
}

const PORT = 5432; // only names the socket file (.s.PGSQL.5432) in our own folder: no TCP is opened

/** initdb + postgres in a new temporary folder; resolves once the server accepts connections. */
export async function startCluster(): Promise<RunningCluster> {
  const bin = postgresBinaries();
  const owner = clusterOwner();
  const root = mkdtempSync(join(tmpdir(), 'hdx-pg-'));
  const data = join(root, 'data');
  if (owner.uid !== undefined) chownSync(root, owner.uid, owner.gid!);
  const as = { uid: owner.uid, gid: owner.gid };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], as);
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D', data, '-k', root, '-p', String(PORT),
        '-c', 'listen_addresses=',
        // A test cluster: durability is SQLite's crash tests' subject, not this one's; speed matters on 2 cores.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=300', '-c', 'shared_buffers=64MB',
      ],
      { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await ready(server);
    const cluster: PostgresCluster = { host: root, port: PORT, user: 'postgres' };
    return {
      cluster,
      stop: async () => {
        await stopServer(server);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL could not be started for the tests: ${(error as Error).message}`, { cause: error });
  }
}

/** The folder with initdb and postgres: HDX_POSTGRES_BIN, on PATH, else Debian's /usr/lib/postgresql/<newest>/bin. */
export function postgresBinaries(): string {
  const named = process.env.HDX_POSTGRES_BIN;
  if (named !== undefined) {
    if (existsSync(join(named, 'initdb')) && existsSync(join(named, 'postgres'))) return named;
    throw new Error(`HDX_POSTGRES_BIN=${named} holds no initdb and postgres`);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = join(debian, v, 'bin');
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('initdb and postgres are not installed (Debian: apt-get install postgresql; .ci/run does this)');
}

/** As root, the `postgres` system user (initdb refuses root); otherwise whoever runs the tests. */
function clusterOwner(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run the cluster as (Debian\'s postgresql package makes it)');
  }
}

function run(cmd: string, args: string[], as: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...as, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`)),
    );
  });
}

/** Resolves when the server logs that it accepts connections; rejects if it exits first. */
function ready(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: Buffer) => {
      stderr += chunk;
      if (stderr.includes('database system is ready to accept connections')) {
        server.off('exit', onExit);
        server.stderr!.off('data', onData);
        server.stderr!.resume(); // keep draining its log so the server never blocks on a full pipe
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`postgres exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    server.stderr!.on('data', onData);
    server.once('exit', onExit);
    server.once('error', reject);
  });
}

/** Fast shutdown (SIGINT: disconnect clients, no checkpoint wait beyond the minimal one). */
function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGINT');
  });
}
