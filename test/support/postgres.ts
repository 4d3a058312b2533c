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
 * The cluster itself (initdb and postgres, as the `postgres` user under root) is ./postgres-cluster.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { admin, startCluster, urlOf, type PostgresCluster, type RunningCluster } from './postgres-cluster.js';

export { postgresBinaries, startCluster, type PostgresCluster, type RunningCluster } from './postgres-cluster.js';

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
