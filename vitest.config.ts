import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // CLI tests run bin/hdx.js, i.e. the build in dist/: rebuilt here when a source is newer.
    // The PostgreSQL pass (HDX_TEST_STORE=postgres) gets one throwaway cluster for the whole run.
    globalSetup: ['test/support/build-dist.ts', 'test/support/postgres.ts'],
    // Integration tests start real gRPC servers and do real crypto: give them room on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
