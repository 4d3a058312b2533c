#!/usr/bin/env node
// Entry point for the `hdx` CLI: runs the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../cli/main.ts');
