/**
 * Free text that survives the profile is scrubbed: every string, markdown and narrative (outside its
 * tags), and text attachments (decoded, scrubbed, re-encoded, size and hash recomputed), with the
 * detectors and the patient's known values. Codes, ids, URIs, dates, numbers and references are
 * structured values and are left alone, as are the nodes the gateway itself wrote.
 *
 * Most strings in a record are clean and recur across records (code displays, units, dosage text), so
 * a string is scrubbed only if a cheap pre-check says it may hold something: the generic detectors'
 * verdict is remembered per string (it depends on the text alone), and the patient's own values are
 * looked for by first character (a bit filter, then the values starting with that character). A string the pre-check clears is one `scrub` would return
 * unchanged.
 */
import { createHash } from 'node:crypto';
import { isTextAttachment } from './categories.js';
import { detect, scrub, type DetectOptions } from './detectors/index.js';
import { hasVariantForms, variantViews } from './detectors/normalize.js';
import { digitsNeeded } from './known-values.js';
import type { FNode } from './engine/node.js';
import { child } from './tree.js';

const TEXT_TYPES = new Set(['string', 'markdown']);
// isTextAttachment's test, for an attachment that has data.
const TEXT_CONTENT = /^text\/(plain|markdown)\b/i;

// Per text: whether the generic detectors (no known values, no caller patterns) find anything, whether
// lowercasing changes it, and how many ASCII digits it has (record-number shapes need several). The texts themselves are not kept (they
// come from records): the cache is keyed by a 53-bit hash of the text, so a wrong answer needs a 53-bit
// collision (below 1 in 10^11 per lookup at the cache's size).
const GENERIC_LIMIT = 50_000;
const textFacts = new Map<number, number>();
const GENERIC_HIT = 1;
const CASELESS = 2; // toLowerCase leaves the text as it is
const VARIANT = 4; // full-width characters or separators inside a number or name (detectors/normalize.ts)
const DIGIT_SHIFT = 3;

/** Two FNV-1a variants over the UTF-16 code units, combined into a 53-bit integer. */
function textKey(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** GENERIC_HIT | CASELESS | VARIANT | digits << DIGIT_SHIFT. */
function factsOf(text: string): number {
  const key = textKey(text);
  let facts = textFacts.get(key);
  if (facts === undefined) {
    let digits = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) digits++;
    }
    facts =
      (digits << DIGIT_SHIFT) |
      (detect(text).length > 0 ? GENERIC_HIT : 0) |
      (text.toLowerCase() === text ? CASELESS : 0) |
      (hasVariantForms(text) ? VARIANT : 0);
    if (textFacts.size >= GENERIC_LIMIT) textFacts.clear();
    textFacts.set(key, facts);
  }
  return facts;
}

// Texts written in variant forms (detectors/normalize.ts), mostly recurring ones such as dosage
// instructions with spaces between words: their derived views, lowercased, for the known-value and
// pattern pre-check — keyed like textFacts, so no record text is kept under its own name.
const VIEW_LIMIT = 20_000;
const textViews = new Map<number, string[]>();

function viewsOf(text: string): string[] {
  const key = textKey(text);
  let views = textViews.get(key);
  if (views === undefined) {
    views = variantViews(text).map((view) => view.text.toLowerCase());
    if (textViews.size >= VIEW_LIMIT) textViews.clear();
    textViews.set(key, views);
  }
  return views;
}

// A pattern without g/y (stateless `test`), one copy per pattern object.
const testables = new WeakMap<RegExp, RegExp>();
function testable(pattern: RegExp): RegExp {
  let copy = testables.get(pattern);
  if (copy === undefined) {
    copy = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
    testables.set(pattern, copy);
  }
  return copy;
}

/**
 * Lowercased values by first UTF-16 code unit, with a 4096-bit filter over those code units: most
 * characters of a text are ruled out with one bit test. Whether a text holds a value is then exactly
 * whether one of its bucket's values starts where its first code unit occurs.
 */
class ValueIndex {
  private readonly bits = new Uint32Array(128);
  private readonly buckets = new Map<number, string[]>();
  readonly empty: boolean;

  constructor(values: readonly string[]) {
    for (const value of values) {
      if (value.length === 0) continue;
      const first = value.charCodeAt(0);
      this.bits[(first >>> 5) & 127]! |= 1 << (first & 31);
      const bucket = this.buckets.get(first);
      if (bucket === undefined) this.buckets.set(first, [value]);
      else bucket.push(value);
    }
    this.empty = this.buckets.size === 0;
  }

  /** Whether `text` contains one of the values. */
  occursIn(text: string): boolean {
    const bits = this.bits;
    for (let at = 0; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if ((bits[(code >>> 5) & 127]! & (1 << (code & 31))) === 0) continue;
      const bucket = this.buckets.get(code);
      if (bucket === undefined) continue;
      for (const value of bucket) if (text.startsWith(value, at)) return true;
    }
    return false;
  }
}

export class Scrubber {
  readonly counts: Record<string, number> = {};
  private readonly known: ValueIndex;
  private readonly patterns: RegExp[];
  /** The fewest digits a text needs for any pattern to match (shapes need several). */
  private readonly patternDigits: number;

  constructor(
    private readonly options: DetectOptions,
    private readonly skip: ReadonlySet<FNode>,
  ) {
    this.known = new ValueIndex((options.known?.values ?? []).map((value) => value.toLowerCase()));
    const patterns = options.recordNumberPatterns ?? [];
    this.patterns = patterns.map(testable);
    this.patternDigits = patterns.reduce((fewest, pattern) => Math.min(fewest, digitsNeeded(pattern)), Infinity);
  }

  private needsScrub(text: string): boolean {
    const facts = factsOf(text);
    if ((facts & GENERIC_HIT) !== 0) return true;
    if (!this.known.empty && this.known.occursIn((facts & CASELESS) !== 0 ? text : text.toLowerCase())) return true;
    if (facts >>> DIGIT_SHIFT >= this.patternDigits && this.patterns.some((pattern) => pattern.test(text))) return true;
    // Full-width digits, 138 1234 5678, 张 三: the patient's values and the hospital's shapes in the derived views.
    if ((facts & VARIANT) === 0 || (this.known.empty && this.patterns.length === 0)) return false;
    const views = viewsOf(text);
    return views.some((view) => (!this.known.empty && this.known.occursIn(view)) || this.patterns.some((pattern) => pattern.test(view)));
  }

  /** A string or markdown value, scrubbed (the same string when nothing was found). */
  text(text: string): string {
    if (text.length < 2 || !this.needsScrub(text)) return text;
    const result = scrub(text, this.options);
    for (const detector in result.counts) {
      this.counts[detector] = (this.counts[detector] ?? 0) + (result.counts[detector as keyof typeof result.counts] ?? 0);
    }
    return result.text;
  }

  /** Only the text between tags: the markup (and its xmlns URL) is not free text. */
  xhtml(div: string): string {
    return div.replace(/(^|>)([^<]+)(?=<|$)/g, (_whole, open: string, text: string) => open + this.text(text));
  }

  private attachment(attachment: FNode): void {
    const data = child(attachment, 'data');
    if (data === undefined || typeof data.value !== 'string' || !isTextAttachment(attachment)) return;
    const before = Buffer.from(data.value, 'base64').toString('utf8');
    const after = this.text(before);
    if (after === before) return;
    const bytes = Buffer.from(after, 'utf8');
    data.value = bytes.toString('base64');
    const size = child(attachment, 'size');
    if (size !== undefined) size.value = bytes.length;
    const hash = child(attachment, 'hash');
    if (hash !== undefined) hash.value = createHash('sha1').update(bytes).digest('base64');
  }

  /**
   * `attachment` on an Attachment already written as JSON (`out`, empty elements pruned). `hadSize`
   * and `hadHash`: whether the element had a size or hash before the profile ran, which are recomputed
   * even if the profile removed them. Returns false if such a removed element would have to be put back
   * (the caller then takes the tree path, which keeps its place).
   */
  attachmentJson(out: Record<string, unknown>, hadSize: boolean, hadHash: boolean): boolean {
    const data = out['data'];
    const contentType = out['contentType'];
    if (typeof data !== 'string' || typeof contentType !== 'string' || !TEXT_CONTENT.test(contentType.trim())) return true;
    const before = Buffer.from(data, 'base64').toString('utf8');
    const after = this.text(before);
    if (after === before) return true;
    if ((hadSize && out['size'] === undefined) || (hadHash && out['hash'] === undefined)) return false;
    const bytes = Buffer.from(after, 'utf8');
    out['data'] = bytes.toString('base64');
    if (hadSize) out['size'] = bytes.length;
    if (hadHash) out['hash'] = createHash('sha1').update(bytes).digest('base64');
    return true;
  }

  /** Scrubs everything below `node`, nested resources included. */
  run(node: FNode): void {
    for (const c of node.children) {
      if (this.skip.has(c)) continue;
      if (c.type === 'Attachment') this.attachment(c);
      else if (typeof c.value === 'string' && c.value !== '') {
        if (c.type === 'xhtml') c.value = this.xhtml(c.value);
        else if (TEXT_TYPES.has(c.type) && !(c.name === 'reference' && node.type === 'Reference')) c.value = this.text(c.value);
      }
      if (c.children.length > 0) this.run(c);
    }
  }
}
