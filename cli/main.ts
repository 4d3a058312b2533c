/** Runs the `hdx` CLI (see cli/program.ts). */
import { CommanderError } from 'commander';
import { describeError } from '../proto/errors.js';
import { buildProgram } from './program.js';

// Commander prints its own parse errors before throwing; an error raised inside an action is printed here.
let printedByCommander = false;
buildProgram()
  .exitOverride()
  .configureOutput({
    outputError: (message, write) => {
      printedByCommander = true;
      write(message);
    },
  })
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      if (!printedByCommander && error.exitCode !== 0) process.stderr.write(`hdx: ${error.message.replace(/^error: /, '')}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`hdx: ${describeError(error)}\n`);
    process.exitCode = 1;
  });
