/**
 * Parsers for the values flags, environment variables and config files carry: each takes the value as
 * given (a string from a flag or variable, any JSON value from a file) and returns it parsed, or throws a
 * ValueError whose message says what to give instead.
 */
import { statSync } from 'node:fs';

export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export type Parse<T> = (value: unknown) => T;

/** The value as trimmed text (a JSON number counts as its digits), or ValueError(expected). */
function textOf(value: unknown, expected: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new ValueError(expected);
  return value.trim();
}

/** A whole number of `unit` from `min` to `max` (e.g. seconds, at least 1). */
export function wholeNumber(unit: string, min = 0, max = Number.MAX_SAFE_INTEGER): Parse<number> {
  const expected = `must be a whole number of ${unit}, ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`}`;
  return (value) => {
    const text = textOf(value, expected);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new ValueError(expected);
    return n;
  };
}

/** true or false (also 1 or 0, for variables). */
export const boolean: Parse<boolean> = (value) => {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ValueError('must be true or false');
};

/** Midnight of the day `now` falls on in China Standard Time (UTC+8, no daylight saving). */
export function startOfChinaDay(now: Date): Date {
  const eightHours = 8 * 3600_000;
  return new Date(Math.floor((now.getTime() + eightHours) / 86_400_000) * 86_400_000 - eightHours);
}

const CHINA_OFFSET = '+08:00';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const TIME_EXPECTED = 'must be a date (2026-09-01) or a time (2026-09-01T08:30), China time unless it ends in Z or ±hh:mm';

/**
 * A date or time in China Standard Time (UTC+8, as hospitals and insurers here read them) unless it names
 * its offset: `2026-09-01` is 2026-09-01T00:00+08:00, `2026-09-01T08:30` is 08:30 in Shenzhen.
 */
export const chinaTime: Parse<Date> = (value) => {
  const text = textOf(value, TIME_EXPECTED);
  const local = DATE.test(text) || LOCAL_TIME.test(text);
  const iso = DATE.test(text) ? `${text}T00:00${CHINA_OFFSET}` : LOCAL_TIME.test(text) ? `${text}${CHINA_OFFSET}` : ZONED_TIME.test(text) ? text : undefined;
  const date = iso === undefined ? undefined : new Date(iso);
  if (date === undefined || Number.isNaN(date.getTime())) throw new ValueError(TIME_EXPECTED);
  // new Date() rolls 2026-02-30 over to March: the day must survive.
  if (local && new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 10) !== text.slice(0, 10)) throw new ValueError(TIME_EXPECTED);
  return date;
};

/** A path that must already exist as a folder (or a file), named in the message when it does not. */
export function existingPath(kind: 'folder' | 'file'): Parse<string> {
  return (value) => {
    const path = textOf(value, `must name a ${kind}`);
    if (path === '') throw new ValueError(`must name a ${kind}`);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new ValueError(`no such ${kind}: ${path}`);
    }
    if (isDir !== (kind === 'folder')) throw new ValueError(`not a ${kind}: ${path}`);
    return path;
  };
}

/** A folder that is made if missing (an output folder). */
export const folder: Parse<string> = (value) => {
  const path = textOf(value, 'must name a folder');
  if (path === '') throw new ValueError('must name a folder');
  return path;
};

/** One gateway address or several, comma-separated (replicas, tried in order: proto/gateway-list.ts). */
export const gatewayAddressList: Parse<string> = (value) => {
  const entries = textOf(value, 'must be host:port or host:port,host:port,…').split(',').map((entry) => entry.trim());
  return entries.map((entry) => listenAddress(entry)).join(',');
};

/** `host:port`, port 0–65535 (0 picks a free one). */
export const listenAddress: Parse<string> = (value) => {
  const expected = 'must be host:port, e.g. 0.0.0.0:7443 or localhost:7443';
  const address = textOf(value, expected);
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) throw new ValueError(expected);
  if (Number(address.slice(address.lastIndexOf(':') + 1)) > 65535) throw new ValueError('port must be 0 to 65535');
  return address;
};
