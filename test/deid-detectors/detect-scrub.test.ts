import { describe, expect, it } from 'vitest';
import { detect, knownValuesFromPatient, REDACTION_MARKER, scrub } from '../../gateway/deid/detectors/index.js';
import { found } from './found.js';

const ID = '11010519491231002X';

describe('detect on clinical text without identifiers', () => {
  it('finds nothing in codes, dates, amounts, doses and lab values', () => {
    const text = [
      '诊断：I21.0 急性前壁心肌梗死；E11.9 2型糖尿病；C34.9。手术 36.06、00.66。',
      '入院 2024-03-05 08:30，出院 2024年3月12日，住院7天。',
      '费用合计 12345.67 元，医保支付 8641.97 元；LOINC 2345-7、10839-9、6690-2。',
      '阿司匹林 100mg qd，血压 120/80mmHg，心率 76 次/分，肌钙蛋白I 12.5 ng/mL，WBC 11.2×10^9/L。',
      '床号 12，科室电话见首页。版本 v4.0.1，时间 10:30:00，剂量 0.5 g q8h。',
    ].join('\n');
    expect(found(text)).toEqual([]);
  });
});

describe('detect on overlapping findings', () => {
  it('reports one detection when a known value is also a resident ID, named by the specific detector', () => {
    expect(found(`身份证${ID}`, { known: { values: [ID] } })).toEqual([['resident-id', ID]]);
  });
  it('merges a phone inside a URL into the URL, so no fragment is left', () => {
    expect(found('见 https://h.example.cn/q?tel=13800138000&x=1 。')).toEqual([
      ['url', 'https://h.example.cn/q?tel=13800138000&x=1'],
    ]);
  });
  it('merges partly overlapping findings into their union, named by the longest part', () => {
    // The known value ends inside the phone number: both must go, as one span.
    const detections = detect('电话13800138000', { known: { values: ['电话138'] } });
    expect(detections).toEqual([{ detector: 'mobile', start: 0, end: 13 }]);
  });
  it('keeps touching findings apart and returns them sorted', () => {
    const detections = detect('王芳13800138000', { known: { values: ['王芳'] } });
    expect(detections).toEqual([
      { detector: 'known-value', start: 0, end: 2 },
      { detector: 'mobile', start: 2, end: 13 },
    ]);
  });
});

describe('scrub', () => {
  const known = knownValuesFromPatient({
    name: [{ family: '陈', given: ['晓东'] }],
    telecom: [{ system: 'phone', value: '13800138000' }],
  });

  it('replaces every detection with the marker and counts per detector', () => {
    const text = `患者陈晓东（陈先生），身份证${ID}，电话138 0013 8000，住院号：ZY20240001，邮箱 a@b.cn，车牌粤B·D12345。`;
    const result = scrub(text, { known });
    expect(result.text).toBe(
      `患者${REDACTION_MARKER}（${REDACTION_MARKER}），身份证${REDACTION_MARKER}，电话${REDACTION_MARKER}，` +
        `住院号：${REDACTION_MARKER}，邮箱 ${REDACTION_MARKER}，车牌${REDACTION_MARKER}。`,
    );
    expect(result.counts).toEqual({ 'known-value': 2, 'resident-id': 1, mobile: 1, 'record-number': 1, email: 1, plate: 1 });
  });
  it('returns the same text and no counts when nothing is found', () => {
    expect(scrub('急性阑尾炎 K35.8', { known })).toEqual({ text: '急性阑尾炎 K35.8', counts: {} });
    expect(scrub('')).toEqual({ text: '', counts: {} });
  });
});

describe('detect performance', () => {
  // Inputs that make naive regexes backtrack: each must finish in well under a second.
  const adversarial = [
    '1'.repeat(100_000),
    `${'a'.repeat(50_000)}@${'b.'.repeat(25_000)}`,
    `${'1:'.repeat(30_000)}x`,
    `${'12.'.repeat(30_000)}`,
    `http://${'a'.repeat(100_000)}`,
    '粤B1'.repeat(30_000),
    '住院号：'.repeat(20_000),
    `${'1 '.repeat(50_000)}`,
    `${'1234 '.repeat(20_000)}`,
  ];
  // Their time is measured by the bench (bench/limits.ts); here: they finish, and find only real spans.
  it.each(adversarial.map((text, i) => [i, text] as const))('adversarial input %i is scanned to the end', (_, text) => {
    const found = detect(text, { known: { values: ['张三', '13800138000'] }, recordNumberPatterns: [/ZY\d{8}/] });
    for (const span of found) {
      expect(span.start).toBeGreaterThanOrEqual(0);
      expect(span.end).toBeLessThanOrEqual(text.length);
    }
  });

  it('leaves typical short strings without identifiers unchanged', () => {
    const known = knownValuesFromPatient({ name: [{ text: '张三' }], telecom: [{ system: 'phone', value: '13800138000' }] });
    const strings = ['急性前壁心肌梗死', 'I21.0', '2024-03-05T08:30:00+08:00', '阿司匹林肠溶片 100mg 口服 每日一次', 'final'];
    for (const text of strings) expect(scrub(text, { known }).text).toBe(text);
  });
});
