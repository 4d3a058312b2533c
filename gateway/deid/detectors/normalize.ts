/**
 * Chinese records write one number or name in several ways: full-width digits and letters (１３８,
 * ＥＧ), circled or other compatibility digits, ideographic and no-break spaces, and separators inside a
 * number (138 1234 5678, 110101 19900307 123X) or between the characters of a name (张 三). The
 * detectors are written for the plain form, so `detect` also runs them over two derived views of a
 * text, and maps what they find back onto the original's positions:
 *
 * - folded: each compatibility character replaced by its NFKC form where that is one identifier
 *   character (digit, Latin letter, `+ - . @`, space) — one UTF-16 unit for one, so positions stay;
 * - compact: the folded text with separator runs (spaces, tabs, hyphens) removed where they join two
 *   digits, an upper-case letter and a digit (E 1234 5678), or two Han characters (张 三, 交张 嘉本人:
 *   a name inside a sentence has no boundary to tell it by, so every such space goes).
 *
 * Only texts that have such a character pay for the views (`hasVariantForms`, one pass).
 */

/** One derived form of a text; `origin[i]` is the position in the original of the view's unit i. */
export interface TextView {
  text: string;
  origin: Int32Array;
}

const FOLD = new Uint16Array(0x10000); // 0: the unit folds to nothing else
const IDENTIFIER_CHARACTER = /^[0-9A-Za-z+\-.@ ]$/;
// The blocks that hold compatibility forms of digits, letters, spaces and dashes.
const FOLD_BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [0x00a0, 0x00ff], // no-break space, superscripts
  [0x2000, 0x209f], // spaces, super- and subscripts
  [0x2150, 0x218f], // number forms
  [0x2460, 0x24ff], // circled digits and letters
  [0x3000, 0x3000], // ideographic space
  [0xff01, 0xff5e], // full-width ASCII
];
for (const [from, to] of FOLD_BLOCKS) {
  for (let code = from; code <= to; code++) {
    const folded = String.fromCharCode(code).normalize('NFKC');
    if (folded.length === 1 && IDENTIFIER_CHARACTER.test(folded)) FOLD[code] = folded.charCodeAt(0);
  }
}
// Dashes NFKC keeps as they are, but that a number is written with (‐ ‑ ‒ – − and the full-width one).
for (const code of [0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xfe63]) FOLD[code] = 0x2d;

const SPACE = 0x20;
const TAB = 0x09;
const HYPHEN = 0x2d;

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
const isUpper = (code: number): boolean => code >= 0x41 && code <= 0x5a;
const isHan = (code: number): boolean =>
  (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf) || (code >= 0xf900 && code <= 0xfaff);
const folded = (code: number): number => FOLD[code] || code;
const isSeparator = (code: number): boolean => code === SPACE || code === TAB || code === HYPHEN;

/** The folded unit at `i` of `text` (NaN outside it). */
const unitAt = (text: string, i: number): number => folded(text.charCodeAt(i));

/** Whether the separator run between positions `before` and `after` of `text` is one a compact view drops. */
function joins(text: string, before: number, after: number): boolean {
  const a = unitAt(text, before);
  const b = unitAt(text, after);
  if (isDigit(b)) return isDigit(a) || isUpper(a);
  if (isDigit(a)) return isUpper(b);
  return isHan(a) && isHan(b);
}

/** The position after the separator run that starts at `from`. */
function afterSeparators(text: string, from: number): number {
  let j = from;
  while (j < text.length && isSeparator(unitAt(text, j))) j++;
  return j;
}

/** Whether `text` has a compatibility character or a separator inside a number or a name. */
export function hasVariantForms(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (FOLD[code] !== 0) return true;
    if (isSeparator(code) && i > 0) {
      const j = afterSeparators(text, i);
      if (j < text.length && joins(text, i - 1, j)) return true;
      i = j - 1;
    }
  }
  return false;
}

/** The folded and compact views of `text` that differ from it (none for most texts). */
export function variantViews(text: string): TextView[] {
  if (!hasVariantForms(text)) return [];
  const units = new Uint16Array(text.length);
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    units[i] = folded(code);
    if (units[i] !== code) changed = true;
  }
  const views: TextView[] = [];
  const identity = new Int32Array(text.length);
  for (let i = 0; i < identity.length; i++) identity[i] = i;
  const foldedText = changed ? stringOf(units) : text;
  if (changed) views.push({ text: foldedText, origin: identity });
  const compact = compactOf(foldedText);
  if (compact !== undefined) views.push(compact);
  return views;
}

/** `text` (folded) without the separator runs that `joins` drops, or undefined if it has none. */
function compactOf(text: string): TextView | undefined {
  const kept: number[] = [];
  const origin: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isSeparator(code) && i > 0) {
      const j = afterSeparators(text, i);
      if (j < text.length && joins(text, i - 1, j)) {
        i = j - 1;
        continue;
      }
    }
    kept.push(code);
    origin.push(i);
  }
  if (kept.length === text.length) return undefined;
  return { text: stringOf(kept), origin: Int32Array.from(origin) };
}

/** UTF-16 units as a string, in chunks (a spread of a long attachment's text would overflow the stack). */
function stringOf(units: ArrayLike<number>): string {
  let text = '';
  for (let at = 0; at < units.length; at += 8192) {
    text += String.fromCharCode(...Array.prototype.slice.call(units, at, at + 8192));
  }
  return text;
}

/** A value in the form a compact view writes it (the patient's own values are matched in that form too). */
export function compactForm(value: string): string {
  const views = variantViews(value);
  return views.length === 0 ? value : views[views.length - 1]!.text;
}
