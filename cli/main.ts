/** Runs the `hdx` CLI (see cli/program.ts). */
import { CommanderError } from 'commander';
import { describeError } from '../proto/errors.js';
import { buildProgram } from './program.js';

buildProgram()
  .exitOverride()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`hdx: ${describeError(error)}\n`);
    process.exitCode = 1;
  });
