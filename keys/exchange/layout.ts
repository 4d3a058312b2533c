/**
 * Internal: the on-disk layout of a development exchange, and careful file writing (private files 0600,
 * folders 0700, never overwrite, atomic replace of the registry, a lock file against concurrent edits).
 */
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ExchangeBusy, InvalidExchange } from '../errors.js';

export const DEFAULT_TRUST_DOMAIN = 'hdx.local';
export const DEFAULT_GATEWAY_ADDRESS = 'localhost:7443';
export const GATEWAY_ID = 'gateway';
export const GATEWAY_NAME = 'hdx gateway';
export const CA_VALID_DAYS = 3650;
export const CERT_VALID_DAYS = 825;
export const DEFAULT_GRACE_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * New keys are listed as valid from five minutes before they were made (as certificates' notBefore),
 * so that a verifier whose clock lags a little does not refuse a token signed right after a rotation.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function keyValidFrom(now: Date): string {
  return new Date(now.getTime() - CLOCK_SKEW_MS).toISOString();
}

export const PRIVATE_FILE = 0o600;
export const PUBLIC_FILE = 0o644;
export const PRIVATE_DIR = 0o700;

export const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  registry: 'registry.json',
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
  signing: 'signing.jwk',
  encryption: 'encryption.jwk',
  logKey: 'log.key',
  logPub: 'log.pub',
  masterKey: 'master.key',
  gatewayJson: 'gateway.json',
  partyJson: 'party.json',
} as const;

export const paths = {
  caDir: (root: string) => join(root, 'ca'),
  registry: (root: string) => join(root, FILES.registry),
  gatewayDir: (root: string) => join(root, 'gateway'),
  partiesDir: (root: string) => join(root, 'parties'),
  partyDir: (root: string, id: string) => join(root, 'parties', id),
};

export function makePrivateDir(path: string): void {
  mkdirSync(path, { mode: PRIVATE_DIR });
  chmodSync(path, PRIVATE_DIR);
}

/** Writes a new file (never overwrites) with exactly `mode`, whatever the umask. */
export function writeNewFile(path: string, data: string | Uint8Array, mode: number): void {
  writeFileSync(path, data, { mode, flag: 'wx' });
  chmodSync(path, mode);
}

export function writeJson(path: string, value: unknown, mode = PUBLIC_FILE): void {
  writeNewFile(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** Replaces a file atomically (write a temporary file beside it, then rename). */
export function replaceFile(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeNewFile(tmp, data, mode);
  try {
    renameSync(tmp, path);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InvalidExchange(`${what} is missing or unreadable: ${path}`, { cause });
  }
}

export function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new InvalidExchange(`${what} is missing or unreadable: ${path}`, { cause });
  }
}

export function readJsonFile(path: string, what: string): unknown {
  const text = readText(path, what);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidExchange(`${what} is not valid JSON`, { cause });
  }
}

/** Runs `fn` holding `<root>/registry.json.lock`; throws `ExchangeBusy` if another process holds it. */
export async function withRegistryLock<T>(root: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = `${paths.registry(root)}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', PRIVATE_FILE);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ExchangeBusy('the registry is locked by another process (remove registry.json.lock if none is running)', {
        cause,
      });
    }
    throw new InvalidExchange('the exchange directory is not writable', { cause });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return await fn();
  } finally {
    unlinkSync(lock);
  }
}
