/**
 * Every occurrence of the patient's own values (name variants, ID, phones, address parts, relatives).
 * The values are compiled once per `KnownValues` (cached on the values array: scrub calls `detect` for
 * every string of a bundle with the same known values) into buckets by first UTF-16 code unit, each in
 * the order of a regex alternation of them, longest first: at each position the first value of its
 * bucket that starts there is the match, and the search goes on after it — what a global
 * `/v1|v2|…/g` finds, without compiling a regex per patient.
 *
 * Values with Latin letters are added in lower and upper case too (an e-mail or a pinyin name written in
 * capitals still matches). The values come with their compact forms (normalize.ts), which the derived
 * views of a text are matched against.
 */
import type { Detector, DetectOptions, KnownValues, Span } from './types.js';

interface Matcher {
  size: number; // the array's length when compiled; a caller that pushes more values gets a fresh matcher
  buckets: Map<number, string[]>;
}

const matchers = new WeakMap<readonly string[], Matcher>();

function withCaseVariants(value: string): string[] {
  return /[A-Za-z]/.test(value) ? [value, value.toLowerCase(), value.toUpperCase()] : [value];
}

function compileMatcher(values: readonly string[]): Matcher {
  // Longest first whatever the caller's order: an alternation takes the first alternative that matches.
  const distinct = [...new Set(values.filter((value) => value.length > 0).flatMap(withCaseVariants))].sort(
    (a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  const buckets = new Map<number, string[]>();
  for (const value of distinct) {
    const first = value.charCodeAt(0);
    const bucket = buckets.get(first);
    if (bucket === undefined) buckets.set(first, [value]);
    else bucket.push(value);
  }
  return { size: values.length, buckets };
}

function matcherFor(known: KnownValues): Matcher {
  let matcher = matchers.get(known.values);
  if (matcher === undefined || matcher.size !== known.values.length) {
    matcher = compileMatcher(known.values);
    matchers.set(known.values, matcher);
  }
  return matcher;
}

function findKnownValues(text: string, options: DetectOptions): Span[] {
  if (options.known === undefined) return [];
  const { buckets } = matcherFor(options.known);
  const spans: Span[] = [];
  if (buckets.size === 0) return spans;
  let at = 0;
  while (at < text.length) {
    const bucket = buckets.get(text.charCodeAt(at));
    let length = 0;
    if (bucket !== undefined) {
      for (const value of bucket) {
        if (text.startsWith(value, at)) {
          length = value.length;
          break;
        }
      }
    }
    if (length === 0) {
      at++;
      continue;
    }
    spans.push({ start: at, end: at + length });
    at += length;
  }
  return spans;
}

export const knownValueDetector: Detector = {
  name: 'known-value',
  needsDigit: false,
  find: findKnownValues,
};
