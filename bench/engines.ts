/**
 * The storage engines a bench run measures (`--store sqlite,postgres`; default both when PostgreSQL's
 * binaries are installed, else SQLite alone, said loudly) and, for PostgreSQL, one throwaway cluster for
 * the run, durable as in production (fsync and synchronous_commit on), with a fresh database per use.
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../gateway/storage/store.js';
import type { BenchOptions } from './types.js';
import { admin, postgresBinaries, startCluster, urlOf, type RunningCluster } from '../test/support/postgres-cluster.js';

const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

/** The engines to run, from `--store` (undefined: the default), with a warning to print when PostgreSQL is left out. */
export function chooseEngines(flag: string | undefined): { engines: Engine[]; warning?: string } {
  if (flag !== undefined) {
    const named = flag.split(',').filter(Boolean);
    const unknown = named.filter((n) => !ENGINES.includes(n as Engine));
    if (unknown.length > 0 || named.length === 0) throw new Error(`--store takes ${ENGINES.join(',')} (got ${flag})`);
    return { engines: [...new Set(named as Engine[])] };
  }
  try {
    postgresBinaries();
    return { engines: [...ENGINES] };
  } catch (error) {
    return {
      engines: ['sqlite'],
      warning: `*** PostgreSQL is NOT benched in this run: ${(error as Error).message}. (--store sqlite says this is meant.)`,
    };
  }
}

/** One durable cluster for the run, started on first use; `stop()` ends it (a no-op if it never started). */
export function benchCluster(): { database(): Promise<string>; stop(): Promise<void> } {
  let running: Promise<RunningCluster> | undefined;
  return {
    async database() {
      running ??= startCluster({ durable: true });
      const { cluster } = await running;
      const name = `hdx_bench_${randomBytes(6).toString('hex')}`;
      await admin(cluster, `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
      return urlOf(cluster, name);
    },
    async stop() {
      if (running) await (await running).stop();
    },
  };
}

/** The gateway's database for a run on `options.store`: a fresh PostgreSQL database, or undefined for SQLite. */
export async function postgresUrl(options: BenchOptions): Promise<string | undefined> {
  if (options.store !== 'postgres') return undefined;
  if (!options.postgresDatabase) throw new Error('--store postgres, but the run has no PostgreSQL cluster');
  return options.postgresDatabase();
}
