/**
 * ICD-10 (WHO 2019) chapters by code range, so that policy exclusions can be written as the chapters that
 * policy wordings name (e.g. "mental disorders" = V, "pregnancy, childbirth" = XV).
 */
const CHAPTERS: ReadonlyArray<readonly [chapter: string, first: string, last: string]> = [
  ['I', 'A00', 'B99'],
  ['II', 'C00', 'D48'],
  ['III', 'D50', 'D89'],
  ['IV', 'E00', 'E90'],
  ['V', 'F00', 'F99'],
  ['VI', 'G00', 'G99'],
  ['VII', 'H00', 'H59'],
  ['VIII', 'H60', 'H95'],
  ['IX', 'I00', 'I99'],
  ['X', 'J00', 'J99'],
  ['XI', 'K00', 'K93'],
  ['XII', 'L00', 'L99'],
  ['XIII', 'M00', 'M99'],
  ['XIV', 'N00', 'N99'],
  ['XV', 'O00', 'O99'],
  ['XVI', 'P00', 'P96'],
  ['XVII', 'Q00', 'Q99'],
  ['XVIII', 'R00', 'R99'],
  ['XIX', 'S00', 'T98'],
  ['XX', 'V01', 'Y98'],
  ['XXI', 'Z00', 'Z99'],
  ['XXII', 'U00', 'U99'],
];

/** The chapter (Roman numeral) of an ICD-10 code such as `K80.1` or `O80`; undefined if not ICD-10 shaped. */
export function icd10Chapter(code: string): string | undefined {
  const category = /^([A-Z]\d{2})/.exec(code.trim().toUpperCase())?.[1];
  if (!category) return undefined;
  return CHAPTERS.find(([, first, last]) => category >= first && category <= last)?.[0];
}

export const ICD10_CHAPTER_NAMES: Readonly<Record<string, string>> = {
  V: '精神和行为障碍',
  XV: '妊娠、分娩和产褥期',
  XVII: '先天性畸形、变形和染色体异常',
  XX: '疾病和死亡的外因',
};
