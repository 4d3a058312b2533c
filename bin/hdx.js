#!/usr/bin/env node
// Entry point for the `hdx` CLI: the build in dist/ (made by `npm install`, see scripts/build.mjs); in a
// checkout that was never built, the TypeScript sources through tsx's loader (slower to start).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.mjs', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
