import { describe, expect, it } from 'vitest';
import { isValidResidentId, residentIdCheckDigit } from '../../gateway/deid/detectors/index.js';
import { found, foundBy } from './found.js';

// The worked example of GB 11643-1999.
const STANDARD_EXAMPLE = '11010519491231002X';
const withCheckDigit = (first17: string) => first17 + residentIdCheckDigit(first17);

describe('residentIdCheckDigit (ISO 7064 MOD 11-2)', () => {
  it('computes the standard example, including X for 10', () => {
    expect(residentIdCheckDigit('11010519491231002')).toBe('X');
    expect(residentIdCheckDigit('44052419800101001')).toBe('3'); // by hand: weighted sum 196, 196 mod 11 = 9 → '3'
  });
  it('refuses input that is not 17 digits, without echoing it', () => {
    expect(() => residentIdCheckDigit('4403051990010112')).toThrow(TypeError);
    expect(() => residentIdCheckDigit('4403051990010112a')).toThrow(/17 digits/);
    expect(() => residentIdCheckDigit('4403051990010112a')).not.toThrow(/4403/);
  });
});

describe('isValidResidentId', () => {
  it('accepts 18-digit IDs with a valid date and check digit, X in either case', () => {
    expect(isValidResidentId(STANDARD_EXAMPLE)).toBe(true);
    expect(isValidResidentId(STANDARD_EXAMPLE.toLowerCase())).toBe(true);
    expect(isValidResidentId(withCheckDigit('44030520000229001'))).toBe(true); // leap day
  });
  it('rejects a wrong check digit, an impossible date or region, and wrong lengths', () => {
    expect(isValidResidentId('110105194912310021')).toBe(false);
    expect(isValidResidentId(withCheckDigit('44030519990229001'))).toBe(false); // 1999 is no leap year
    expect(isValidResidentId(withCheckDigit('44030519901301001'))).toBe(false); // month 13
    expect(isValidResidentId(withCheckDigit('44030518500101001'))).toBe(false); // born 1850
    expect(isValidResidentId(withCheckDigit('99030519900101001'))).toBe(false); // no province 99
    expect(isValidResidentId('11010519491231002')).toBe(false);
    expect(isValidResidentId(` ${STANDARD_EXAMPLE}`)).toBe(false);
  });
  it('accepts the legacy 15-digit form by its 19YYMMDD date', () => {
    expect(isValidResidentId('440305850312123')).toBe(true);
    expect(isValidResidentId('440305851312123')).toBe(false);
    expect(isValidResidentId('000305850312123')).toBe(false);
  });
});

describe('resident-id detector', () => {
  it('finds 18- and 15-digit IDs in Chinese text', () => {
    expect(found(`身份证号：${STANDARD_EXAMPLE}，旧证440305850312123。`)).toEqual([
      ['resident-id', STANDARD_EXAMPLE],
      ['resident-id', '440305850312123'],
    ]);
  });
  it('does not take an 18-digit order number with a wrong check digit for an ID', () => {
    expect(foundBy('resident-id', '订单号 110105194912310021')).toEqual([]);
  });
  it('does not find an ID inside a longer run of digits', () => {
    expect(foundBy('resident-id', `流水号 9${STANDARD_EXAMPLE.slice(0, 17)}05`)).toEqual([]);
    expect(foundBy('resident-id', `流水号 12${withCheckDigit('44030519900101123')}`)).toEqual([]);
  });
});
