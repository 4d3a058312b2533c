/**
 * Looking for a record's identifiers in machine output (what an insurer received, a log). Random tokens —
 * 32-hex ids and pseudonyms, 64-hex hashes, base64url signatures: runs of 24 or more [A-Za-z0-9_-] — are
 * masked first, because a 6-digit postcode turns up inside them by chance (in about one demo run in five,
 * inside the hashes de-identification writes with a fresh key each run). No identifier is that long a run,
 * so none can hide in what is masked.
 */
const RANDOM_TOKEN = /[A-Za-z0-9_-]{24,}/g;

/** The identifiers (with repeats, as given) that occur in `text` outside random tokens. */
export function identifiersIn(text: string, identifiers: readonly string[]): string[] {
  const content = text.replace(RANDOM_TOKEN, '·');
  return identifiers.filter((id) => id.length >= 2 && content.includes(id));
}

// Separators a number or name may be written with; removed, with NFKC folding, by `canonicalForm`.
const SEPARATORS = /[\s\u3000\-\u2010-\u2015\u2212\uff0d]+/g;

/**
 * A text folded to one written form: NFKC (full-width and other compatibility characters to ASCII),
 * separators removed. Written apart from the gateway's own normalisation on purpose, so the leak tests
 * do not check the gateway against itself.
 */
export function canonicalForm(text: string): string {
  return text.normalize('NFKC').replace(SEPARATORS, '');
}

/** The identifiers that occur in `text` in any written form (compared in their canonical forms). */
export function identifiersInAnyForm(text: string, identifiers: readonly string[]): string[] {
  const content = canonicalForm(text.replace(RANDOM_TOKEN, '·'));
  return identifiers.filter((id) => canonicalForm(id).length >= 2 && content.includes(canonicalForm(id)));
}
