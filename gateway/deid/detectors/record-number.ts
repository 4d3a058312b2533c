/**
 * Medical record and visit numbers. Two sources: numbers after a label in text (住院号：ZY20240001,
 * 病案号 123456, MRN: …), where only the value is reported so the label stays readable; and the shapes the
 * caller builds from the hospital's identifier systems (`recordNumberPatterns`). A caller pattern may
 * name a group `value` to report only that part of its match.
 */
import type { Detector, DetectOptions, Span } from './types.js';

// Each label may be followed by 码 (住院号码); longer labels come first.
const LABELS = [
  '住院流水号', '住院号', '病案号', '病历号', '门诊号', '急诊号',
  '就诊卡号', '就诊号', '登记号', '档案号', '健康卡号', '诊疗卡号', '医保卡号', '医保号', '社保卡号',
  '社会保障卡号', '患者编号', '病人编号', '患者ID', '病人ID', 'ID号',
  'MRN', 'Medical Record (?:No\\.?|Number)', 'Visit (?:No\\.?|Number)', 'Patient ID', 'Hospital (?:No\\.?|Number)',
];
const LABELLED_NUMBER = new RegExp(
  `(?:${LABELS.join('|')})码?\\s*(?:[:：#]|为|是)?\\s*([A-Za-z0-9][A-Za-z0-9-]{2,39})`,
  'gi',
);

function findLabelledNumbers(text: string): Span[] {
  const spans: Span[] = [];
  LABELLED_NUMBER.lastIndex = 0;
  for (let match = LABELLED_NUMBER.exec(text); match !== null; match = LABELLED_NUMBER.exec(text)) {
    const value = (match[1] ?? '').replace(/-+$/, '');
    if (!/\d/.test(value)) continue; // "MRN unknown", "病案号见首页"
    const start = match.index + match[0].length - (match[1] ?? '').length;
    spans.push({ start, end: start + value.length });
  }
  return spans;
}

// The caller's regexes, copied once each with the flags we need: g to find all, d for the value group.
const compiledPatterns = new WeakMap<RegExp, RegExp>();

function compiled(pattern: RegExp): RegExp {
  let regex = compiledPatterns.get(pattern);
  if (regex === undefined) {
    const flags = new Set([...pattern.flags.replace('y', ''), 'g', 'd']);
    regex = new RegExp(pattern.source, [...flags].join(''));
    compiledPatterns.set(pattern, regex);
  }
  return regex;
}

function findPatternNumbers(text: string, patterns: readonly RegExp[]): Span[] {
  const spans: Span[] = [];
  for (const pattern of patterns) {
    const regex = compiled(pattern);
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      if (match[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const value = match.indices?.groups?.['value'];
      if (value !== undefined && value[1] > value[0]) spans.push({ start: value[0], end: value[1] });
      else if (value === undefined) spans.push({ start: match.index, end: match.index + match[0].length });
    }
  }
  return spans;
}

export const labelledRecordNumberDetector: Detector = {
  name: 'record-number',
  needsDigit: true,
  find: (text) => findLabelledNumbers(text),
};

export const recordNumberPatternDetector: Detector = {
  name: 'record-number',
  needsDigit: false, // the hospital's shapes are the caller's business
  find: (text: string, options: DetectOptions) =>
    options.recordNumberPatterns === undefined ? [] : findPatternNumbers(text, options.recordNumberPatterns),
};
