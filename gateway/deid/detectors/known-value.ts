/**
 * Every occurrence of the patient's own values (name variants, ID, phones, address parts, relatives).
 * One alternation regex per `KnownValues`, compiled on first use and cached on the values array: scrub
 * calls `detect` for every string of a bundle with the same known values. A one-character class of the
 * values' first characters lets most strings be ruled out with a single cheap scan.
 *
 * The regex is compiled for every patient, so it avoids the `i` flag, which makes V8 compile a
 * CJK-heavy alternation about three times slower: values with Latin letters are added in lower and
 * upper case instead (an e-mail or a pinyin name written in capitals still matches).
 */
import { regexSpans } from './spans.js';
import type { Detector, DetectOptions, KnownValues, Span } from './types.js';

interface Matcher {
  size: number; // the array's length when compiled; a caller that pushes more values gets a fresh matcher
  firstCharacters: RegExp | undefined;
  values: RegExp | undefined;
}

const matchers = new WeakMap<readonly string[], Matcher>();

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function withCaseVariants(value: string): string[] {
  return /[A-Za-z]/.test(value) ? [value, value.toLowerCase(), value.toUpperCase()] : [value];
}

function compileMatcher(values: readonly string[]): Matcher {
  // Longest first whatever the caller's order: an alternation takes the first alternative that matches.
  const distinct = [...new Set(values.filter((value) => value.length > 0).flatMap(withCaseVariants))].sort(
    (a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  if (distinct.length === 0) return { size: values.length, firstCharacters: undefined, values: undefined };
  // Code units, not code points: without the u flag a class holds the lead surrogate of an astral
  // character, which is all a prefilter needs.
  const firsts = new Set(distinct.map((value) => value.charAt(0)));
  return {
    size: values.length,
    firstCharacters: new RegExp(`[${[...firsts].map(escapeRegExp).join('')}]`),
    values: new RegExp(distinct.map(escapeRegExp).join('|'), 'g'),
  };
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
  const matcher = matcherFor(options.known);
  if (matcher.values === undefined || matcher.firstCharacters?.test(text) !== true) return [];
  return regexSpans(matcher.values, text);
}

export const knownValueDetector: Detector = {
  name: 'known-value',
  needsDigit: false,
  find: findKnownValues,
};
