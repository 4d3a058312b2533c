/**
 * Every occurrence of the patient's own values (name variants, ID, phones, address parts, relatives).
 * One alternation regex per `KnownValues`, compiled once and cached on the values array: scrub calls
 * `detect` for every string of a bundle with the same known values. A one-character class of the
 * values' first characters lets most strings be ruled out with a single cheap scan.
 */
import { regexSpans } from './spans.js';
import type { Detector, DetectOptions, KnownValues, Span } from './types.js';

interface Matcher {
  size: number; // the array's length when compiled; a caller that pushes more values gets a fresh matcher
  firstCharacters: RegExp | undefined;
  values: RegExp | undefined;
}

const matchers = new WeakMap<readonly string[], Matcher>();

// Unicode-mode regexes accept only these escapes: outside a class the syntax characters, inside a class
// also '-'.
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function escapeClassCharacter(character: string): string {
  return /[\\\]\[^-]/.test(character) ? `\\${character}` : character;
}

function compileMatcher(values: readonly string[]): Matcher {
  // Longest first whatever the caller's order: an alternation takes the first alternative that matches.
  const distinct = [...new Set(values.filter((value) => value.length > 0))].sort(
    (a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  if (distinct.length === 0) return { size: values.length, firstCharacters: undefined, values: undefined };
  const firsts = new Set(distinct.map((value) => String.fromCodePoint(value.codePointAt(0) ?? 0)));
  return {
    size: values.length,
    firstCharacters: new RegExp(`[${[...firsts].map(escapeClassCharacter).join('')}]`, 'iu'),
    values: new RegExp(distinct.map(escapeRegExp).join('|'), 'giu'),
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
