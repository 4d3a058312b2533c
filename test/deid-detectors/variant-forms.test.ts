/**
 * Identifiers in the other ways Chinese records write them: full-width and compatibility characters,
 * separators inside numbers, spaces between a name's characters — found, and reported at their place
 * in the original text; and ordinary clinical text still left alone.
 */
import { describe, expect, it } from 'vitest';
import { knownValuesFromPatient, scrub } from '../../gateway/deid/detectors/index.js';
import { hasVariantForms, variantViews } from '../../gateway/deid/detectors/normalize.js';
import { fullWidth } from '../../synthetic/index.js';
import { found } from './found.js';

const ID = '11010519491231002X';

describe('variant written forms', () => {
  it('finds a full-width resident ID and maps it back onto the original text', () => {
    const text = `身份证${fullWidth(ID)}，已核对`;
    expect(found(text)).toEqual([['resident-id', fullWidth(ID)]]);
    expect(scrub(text).text).toBe('身份证[已删除]，已核对');
  });

  it('finds numbers with spaces, ideographic spaces and dashes inside them', () => {
    expect(found('电话 138 0013 8000 联系')).toEqual([['mobile', '138 0013 8000']]);
    expect(found('电话138-0013 8000')).toEqual([['mobile', '138-0013 8000']]);
    expect(found('电话１３８\u3000００１３\u3000８０００')).toEqual([['mobile', '１３８\u3000００１３\u3000８０００']]);
    expect(found(`证件 110105 19491231 002X 复印件`)).toEqual([['resident-id', '110105 19491231 002X']]);
    expect(found('护照 E 1234 5678')).toEqual([['passport', 'E 1234 5678']]);
    expect(found('电话 1 3 8 0 0 1 3 8 0 0 0')).toEqual([['mobile', '1 3 8 0 0 1 3 8 0 0 0']]);
  });

  it('finds a landline written full-width with a full-width dash', () => {
    expect(found('单位电话０７５５－８６６７１２３４')).toEqual([['landline', '０７５５－８６６７１２３４']]);
  });

  it("finds the patient's own values in any of these forms, a spaced name too", () => {
    const known = knownValuesFromPatient({
      resourceType: 'Patient',
      name: [{ text: '张建荣' }],
      telecom: [{ system: 'phone', value: '138 0013 8000' }],
      identifier: [{ system: 'https://nanshan.hospital.hdx.local/mrn', value: '0012345678' }],
    });
    const text = '患者张 建 荣，病案 ００１２３４５６７８，手机13800138000，张\u3000建\u3000荣签字';
    expect(scrub(text, { known }).text).toBe('患者[已删除]，病案 [已删除]，手机[已删除]，[已删除]签字');
  });

  it('leaves ordinary clinical text alone', () => {
    for (const text of [
      '2024-05-18 入院，2024-05-25 出院',
      '阿莫西林 0.5 g bid，连用 7 天',
      'BP 120/80 mmHg，HR 78 次/分',
      '诊断：I10 原发性高血压；J18.9 肺炎',
      '费用合计 12,345.60 元，医保支付 8 000.00 元',
      '第 3 - 5 天体温 37.5 - 38.2 ℃',
      '入院诊断：２型糖尿病',
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });

  it('builds views only for texts that have a variant form', () => {
    expect(hasVariantForms('患者自述头痛三天')).toBe(false);
    expect(variantViews('患者自述头痛三天')).toEqual([]);
    expect(hasVariantForms('血压１２０')).toBe(true);
    expect(hasVariantForms('张 三')).toBe(true);
    expect(hasVariantForms('138 0013')).toBe(true);
    expect(hasVariantForms('3 次')).toBe(false);
  });
});
