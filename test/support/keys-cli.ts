/** Runs `hdx keys …` in-process (commander with exit overridden), capturing what it prints. */
import { Command, CommanderError } from 'commander';
import { registerKeysCommands } from '../../keys/cli.js';

export interface KeysRun {
  out: string;
  err: string;
  error?: CommanderError;
}

export async function hdxKeys(...args: string[]): Promise<KeysRun> {
  const run: KeysRun = { out: '', err: '' };
  const program = new Command('hdx').exitOverride().configureOutput({
    writeOut: (s) => (run.out += s),
    writeErr: (s) => (run.err += s),
  });
  registerKeysCommands(program);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    run.error = e;
  }
  return run;
}
