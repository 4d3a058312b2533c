/**
 * Settings of long-running commands from four places, in this order of precedence: a flag, an environment
 * variable (HDX_…), the `--config <file.json>` file, the default. Each setting is declared once, with a
 * parser (values.ts) that checks it wherever it comes from, so a bad value is refused at start with what to fix:
 * `--lease-seconds abc` → "option '--lease-seconds <n>' argument 'abc' is invalid. must be a whole number
 * of seconds, at least 1"; in the file → "config file gw.json: leaseSeconds: must be …".
 * (Commander keeps where each value came from; a file value only fills what flags and env left at default.)
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { boolean, ValueError, type Parse } from './values.js';

export interface Setting {
  /** e.g. '--lease-seconds <n>'; a flag without a value is a boolean. */
  flags: string;
  description: string;
  /** e.g. 'HDX_GATEWAY_LEASE_SECONDS'. */
  env: string;
  /** Checks (and converts) the value: a string from a flag or env, any JSON value from the file. */
  parse: Parse<unknown>;
  default?: unknown;
  /** How the default reads in --help, when it is not the value itself. */
  defaultDescription?: string;
  required?: boolean;
  /** The value may hold a password (a connection URL): no message repeats it. */
  secret?: boolean;
}

/**
 * A flag's argument parser: the value parsed, or commander's InvalidArgumentError with the reason. For a
 * secret value, a plain error naming the flag only: commander's message would quote the value.
 */
export function parseWith<T>(parse: Parse<T>, secret?: { flags: string; env: string }) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof ValueError && secret) throw new Error(`option '${secret.flags}' (or ${secret.env}) is invalid (its value is not repeated): ${error.message}`);
      if (error instanceof ValueError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

/**
 * Adds the settings (and `--config <file>`, also HDX_CONFIG) to `command`. Before its action runs, the
 * config file fills what no flag or env set; every setting is then checked, and a missing required one
 * is named with the three ways to give it.
 */
export function addSettings(command: Command, settings: Record<string, Setting>): Command {
  command.addOption(new Option('--config <file>', 'settings file (JSON, keys as below in camelCase: see README “Configuration”)').env('HDX_CONFIG'));
  for (const s of Object.values(settings)) {
    // Commander would take any value of a boolean's variable (even "false") as true: booleans are read below.
    const option = takesValue(s) ? new Option(s.flags, s.description).env(s.env).argParser(parseWith(s.parse, s.secret ? s : undefined)) : new Option(s.flags, `${s.description} (env: ${s.env}=true|false)`);
    if (s.default !== undefined) option.default(s.default, s.defaultDescription);
    command.addOption(option);
  }
  command.hook('preAction', (cmd) => applyConfig(cmd, settings));
  return command;
}

const takesValue = (s: Setting) => /[<[]/.test(s.flags);
const atDefault = (cmd: Command, key: string) => [undefined, 'default'].includes(cmd.getOptionValueSource(key));

function applyConfig(cmd: Command, settings: Record<string, Setting>): void {
  for (const [key, s] of Object.entries(settings)) {
    const value = process.env[s.env];
    if (takesValue(s) || value === undefined || !atDefault(cmd, key)) continue;
    if (!/^(true|false|1|0)$/.test(value)) throw new Error(`${s.env}=${value}: must be true or false (for ${s.flags})`);
    cmd.setOptionValueWithSource(key, boolean(value), 'env');
  }
  const file = cmd.getOptionValue('config') as string | undefined;
  if (file !== undefined) {
    const values = readConfig(file, settings);
    for (const [key, value] of Object.entries(values)) {
      if (atDefault(cmd, key)) cmd.setOptionValueWithSource(key, value, 'config');
    }
  }
  for (const [key, s] of Object.entries(settings)) {
    if (s.required && cmd.getOptionValue(key) === undefined) {
      throw new Error(`missing setting ${s.flags.split(' ')[0]}: give the flag, ${s.env}, or "${key}" in the --config file`);
    }
  }
}

function readConfig(file: string, settings: Record<string, Setting>): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`config file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // V8's message may quote a stretch of the file, which may hold a secret: that part is cut.
    throw new Error(`config file ${file}: not JSON (${(error as Error).message.split(/,\s*(?:\.\.\.)?"/)[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`config file ${file}: must be an object of settings, e.g. {"leaseSeconds": 30}`);
  }
  const unknown = Object.keys(json).filter((key) => !Object.hasOwn(settings, key));
  if (unknown.length > 0) {
    throw new Error(`config file ${file}: unknown setting ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${Object.keys(settings).join(', ')}`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const s = settings[key]!;
    try {
      // A boolean flag's value is a JSON boolean; the others go through the flag's parser.
      values[key] = takesValue(s) ? s.parse(value) : typeof value === 'boolean' ? value : boolean(undefined);
    } catch (error) {
      if (error instanceof ValueError) throw new Error(`config file ${file}: ${key}: ${error.message}`);
      throw error;
    }
  }
  return values;
}
