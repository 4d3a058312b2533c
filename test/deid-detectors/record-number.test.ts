import { describe, expect, it } from 'vitest';
import { found, foundBy } from './found.js';

describe('record-number detector', () => {
  it('finds labelled numbers and reports only the value, so the label stays', () => {
    const text = '住院号：ZY20240001，病案号 123456，门诊号码:MZ-2024-0007，MRN: 00098765，就诊卡号为88001234。';
    expect(found(text)).toEqual([
      ['record-number', 'ZY20240001'],
      ['record-number', '123456'],
      ['record-number', 'MZ-2024-0007'],
      ['record-number', '00098765'],
      ['record-number', '88001234'],
    ]);
  });
  it('needs a digit in the value and a label in front of it', () => {
    expect(foundBy('record-number', '病案号见首页，MRN unknown，ZY20240001')).toEqual([]);
  });
  it("finds the hospital's own shapes given as patterns, global or not", () => {
    const options = { recordNumberPatterns: [/ZY\d{8}/, /\bP\d{6}\b/g] };
    expect(found('转入 ZY20240001 与 ZY20240002，旧号 P123456', options)).toEqual([
      ['record-number', 'ZY20240001'],
      ['record-number', 'ZY20240002'],
      ['record-number', 'P123456'],
    ]);
  });
  it('reports only the `value` group of a pattern when it has one', () => {
    expect(found('visit#V778899', { recordNumberPatterns: [/visit#(?<value>V\d+)/] })).toEqual([['record-number', 'V778899']]);
  });
});
