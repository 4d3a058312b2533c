import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The vendored conformance data (test/fixtures/conformance), or another copy named by HDX_CONFORMANCE_DIR.
 * Inside the repository so that a fresh clone's `npm test` needs nothing beside it.
 */
export const CONFORMANCE_DIR =
  process.env.HDX_CONFORMANCE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conformance');

export const conformancePath = (...parts: string[]): string => join(CONFORMANCE_DIR, ...parts);
