/**
 * The storage engine tests run on, chosen by HDX_TEST_STORE=sqlite|postgres (default sqlite). An engine
 * registers its factory here; asking for one that is not registered fails loudly, never falls back.
 * (PostgreSQL's factory comes with its engine: test/support/postgres.ts.)
 */
import { openSqliteStore } from '../../gateway/storage/sqlite/store.js';
import type { Engine, StoreFactory } from '../../gateway/storage/store.js';

const factories = new Map<Engine, StoreFactory>([['sqlite', openSqliteStore]]);

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
  if (!factory) throw new Error(`HDX_TEST_STORE=${engine}: no ${engine} engine is registered for tests (see test/support/stores.ts)`);
  return factory;
}

/** Every registered engine, for tests that run on each (the storage contract). */
export function testEngines(): Engine[] {
  return [...factories.keys()];
}
