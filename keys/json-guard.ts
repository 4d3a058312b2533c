/**
 * Small helpers for parsing untrusted JSON defensively. Each takes a `fail` callback that builds the
 * typed error for the caller (registry, exchange file, token claims), and a `path` that names the field
 * (`parties[2].keys[0].jwk`), never its value.
 */

export type Fail = (message: string, cause?: unknown) => Error;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An object with only the allowed members (all own, enumerable, string-keyed). */
export function objectWith(value: unknown, path: string, allowed: readonly string[], fail: Fail): Record<string, unknown> {
  if (!isPlainObject(value)) throw fail(`${path} must be an object`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw fail(`${path} has an unknown member`);
  }
  return value;
}

export function stringAt(value: unknown, path: string, fail: Fail, maxLength = 1024): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw fail(`${path} must be a non-empty string`);
  }
  return value;
}

export function arrayAt(value: unknown, path: string, fail: Fail, maxLength = 10_000): unknown[] {
  if (!Array.isArray(value) || value.length > maxLength) throw fail(`${path} must be an array`);
  return value;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time with a zone (`2025-01-01T00:00:00Z`); returns it and its epoch milliseconds. */
export function instantAt(value: unknown, path: string, fail: Fail): { text: string; ms: number } {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) throw fail(`${path} must be an RFC 3339 date-time`);
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw fail(`${path} must be an RFC 3339 date-time`);
  return { text: value, ms };
}

export function isInstant(value: unknown): value is string {
  return typeof value === 'string' && ISO_INSTANT.test(value) && Number.isFinite(Date.parse(value));
}

/**
 * Whether parsed JSON nests objects and arrays deeper than `max` levels. Iterative, so that a hostile
 * document 100,000 levels deep is refused here instead of overflowing the stack of a recursive walk later.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ value: object; depth: number }> = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > max) return true;
    for (const child of Array.isArray(top.value) ? top.value : Object.values(top.value)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: top.depth + 1 });
    }
  }
  return false;
}
