/**
 * Schemas for the values flags, environment variables and config files carry, each with a message that
 * says what to give instead. They take strings (as typed) and return the parsed value.
 */
import { statSync } from 'node:fs';
import { z } from 'zod';

/** A whole number of `unit` from `min` (e.g. seconds, at least 1). */
export function wholeNumber(unit: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const expected = `must be a whole number of ${unit}, ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { error: expected })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: expected });
}

const CHINA_OFFSET = '+08:00';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A date or time in China Standard Time (UTC+8, as hospitals and insurers here read them) unless it names
 * its offset: `2026-09-01` is 2026-09-01T00:00+08:00, `2026-09-01T08:30` is 08:30 in Shenzhen.
 */
export const chinaTime = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const iso = DATE.test(text) ? `${text}T00:00${CHINA_OFFSET}` : LOCAL_TIME.test(text) ? `${text}${CHINA_OFFSET}` : ZONED_TIME.test(text) ? text : undefined;
    const date = iso === undefined ? undefined : new Date(iso);
    // new Date() rolls 2026-02-30 over to March: check the day survived.
    if (date === undefined || Number.isNaN(date.getTime()) || !sameCalendarDay(text, date)) {
      ctx.addIssue({ code: 'custom', message: 'must be a date (2026-09-01) or a time (2026-09-01T08:30), China time unless it ends in Z or ±hh:mm' });
      return z.NEVER;
    }
    return date;
  });

function sameCalendarDay(text: string, date: Date): boolean {
  if (!DATE.test(text) && !LOCAL_TIME.test(text)) return true;
  const china = new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  return china === text.slice(0, 10);
}

/** A path that must already exist as a folder (or a file), named in the message when it does not. */
export function existingPath(kind: 'folder' | 'file') {
  return z
    .string()
    .trim()
    .min(1, { error: `must name a ${kind}` })
    .superRefine((path, ctx) => {
      let isDir: boolean;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        ctx.addIssue({ code: 'custom', message: `no such ${kind}: ${path}` });
        return;
      }
      if (isDir !== (kind === 'folder')) ctx.addIssue({ code: 'custom', message: `not a ${kind}: ${path}` });
    });
}

/** A folder that is made if missing (an output folder). */
export const folder = z.string().trim().min(1, { error: 'must name a folder' });

/** `host:port`, port 0–65535 (0 picks a free one). */
export const listenAddress = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { error: 'must be host:port, e.g. 0.0.0.0:7443 or localhost:7443' })
  .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, { error: 'port must be 0 to 65535' });
