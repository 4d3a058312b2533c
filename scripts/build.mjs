#!/usr/bin/env node
/**
 * Builds the `hdx` CLI into dist/ with esbuild (run by `npm install` through the `prepare` script, and by
 * the test suite's global setup when dist is older than the sources); how the bundle is made: bundle.mjs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, root } from './bundle.mjs';

const dist = join(root, 'dist');
await bundle(dist, { cli: 'cli/main.ts', demo: 'demo/run.ts' });
// Stamp last: the test suite's global setup rebuilds when a source is newer than this file.
writeFileSync(join(dist, 'BUILT'), `${new Date().toISOString()}\n`);
