import { describe, expect, it } from 'vitest';
import { isLuhnValid } from '../../gateway/deid/detectors/index.js';
import { found, foundBy } from './found.js';

// A Luhn-valid 16-digit number and the same number with its last digit changed.
const CARD = '6222021234567894';
const NOT_A_CARD = '6222021234567890';

describe('isLuhnValid', () => {
  it('accepts valid and rejects altered numbers', () => {
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(isLuhnValid(CARD)).toBe(true);
    expect(isLuhnValid(NOT_A_CARD)).toBe(false);
    expect(isLuhnValid('4111 1111 1111 1111')).toBe(false); // digits only
    expect(isLuhnValid('')).toBe(false);
  });
});

describe('bank-card detector', () => {
  it('finds 16–19 digit Luhn-valid numbers, grouped or not', () => {
    expect(found(`退款至 ${CARD}；或 6222 0212 3456 7894；或 6222-0212-3456-7894`)).toEqual([
      ['bank-card', CARD],
      ['bank-card', '6222 0212 3456 7894'],
      ['bank-card', '6222-0212-3456-7894'],
    ]);
  });
  it('does not take a Luhn-invalid 16-digit number for a card', () => {
    expect(found(`订单 ${NOT_A_CARD}`)).toEqual([]);
  });
  it('does not find a card inside a longer run of digits', () => {
    expect(foundBy('bank-card', `流水 ${CARD}12345`)).toEqual([]);
  });
});

describe('plate detector', () => {
  it('finds ordinary, new-energy and special plates, with or without a separator', () => {
    expect(found('车牌粤B12345，粤B·D12345，京A 88888，沪C1234学')).toEqual([
      ['plate', '粤B12345'],
      ['plate', '粤B·D12345'],
      ['plate', '京A 88888'],
      ['plate', '沪C1234学'],
    ]);
  });
  it('does not take common words starting with a province character for plates', () => {
    expect(foundBy('plate', '新ICU病房，云ABCDE，青A12，川B1234567，粤B123456')).toEqual([]);
  });
});

describe('passport and Hong Kong/Macau permit detectors', () => {
  it('finds Chinese passports and permits', () => {
    expect(found('护照E12345678，旧护照G12345678，新护照EA1234567；通行证C12345678、CA1234567')).toEqual([
      ['passport', 'E12345678'],
      ['passport', 'G12345678'],
      ['passport', 'EA1234567'],
      ['hk-macau-permit', 'C12345678'],
      ['hk-macau-permit', 'CA1234567'],
    ]);
  });
  it('does not find them inside longer words or in ICD-10 codes', () => {
    expect(found('批号XE12345678，编号E123456789，诊断E11.9、C34.9，EO1234567')).toEqual([]);
  });
});
