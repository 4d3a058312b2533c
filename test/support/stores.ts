/**
 * The storage engine tests run on, chosen by HDX_TEST_STORE=sqlite|postgres (default sqlite). Asking for an
 * engine that is not available fails loudly, never falls back. PostgreSQL is available when the run has a
 * cluster (test/support/postgres.ts: every run that may need one, unless HDX_ALLOW_NO_POSTGRES=1 let a run
 * without PostgreSQL through); each store then gets a database of its own, keyed by its data folder.
 */
import { inject } from 'vitest';
import { openPostgresStore } from '../../gateway/storage/postgres/store.js';
import { openSqliteStore } from '../../gateway/storage/sqlite/store.js';
import type { Engine, StoreFactory } from '../../gateway/storage/store.js';
import { storeDatabaseUrl } from './postgres.js';

const openTestPostgresStore: StoreFactory = async (options) =>
  openPostgresStore({ ...options, postgres: { connectionString: await storeDatabaseUrl(options.dataDir) } });

const factories = new Map<Engine, StoreFactory>([['sqlite', openSqliteStore]]);
if (providedCluster()) factories.set('postgres', openTestPostgresStore);

/** The run's cluster; none outside vitest (test/crash and test/fuzz's runners import the harness too). */
function providedCluster(): unknown {
  try {
    return inject('hdxPostgres');
  } catch {
    return null;
  }
}

/** Makes `engine` available to testStore() and the harness. */
export function registerTestStore(engine: Engine, factory: StoreFactory): void {
  factories.set(engine, factory);
}

/** The engine named by HDX_TEST_STORE. */
export function testEngine(): Engine {
  const name = process.env['HDX_TEST_STORE'] ?? 'sqlite';
  if (name !== 'sqlite' && name !== 'postgres') throw new Error(`HDX_TEST_STORE must be sqlite or postgres, not ${name}`);
  return name;
}

/** The factory of `engine` (default: HDX_TEST_STORE's). */
export function testStoreFactory(engine: Engine = testEngine()): StoreFactory {
  const factory = factories.get(engine);
  if (!factory) throw new Error(`HDX_TEST_STORE=${engine}: no ${engine} engine is available in this run (see test/support/stores.ts)`);
  return factory;
}

/**
 * Every available engine, for tests that run on each (the storage contract). PostgreSQL is missing only
 * when HDX_ALLOW_NO_POSTGRES=1 let a run without it through (the run's setup said so loudly).
 */
export function testEngines(): Engine[] {
  return [...factories.keys()];
}
