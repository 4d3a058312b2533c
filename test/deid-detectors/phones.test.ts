import { describe, expect, it } from 'vitest';
import { found, foundBy } from './found.js';

describe('mobile detector', () => {
  it.each([
    ['13800138000'],
    ['138 0013 8000'],
    ['138-0013-8000'],
    ['+8613800138000'],
    ['+86 138 0013 8000'],
    ['+86-138-0013-8000'],
    ['008613800138000'],
    ['8613800138000'],
    ['19912345678'],
  ])('finds %s', (phone) => {
    expect(found(`联系电话：${phone}，`)).toEqual([['mobile', phone]]);
  });
  it('needs 1[3-9] as the prefix', () => {
    expect(foundBy('mobile', '编号 12012345678')).toEqual([]);
    expect(foundBy('mobile', '编号 10086')).toEqual([]);
  });
  it('does not find a mobile in a 20-digit number or a 12-digit one', () => {
    expect(foundBy('mobile', '交易号 13800138000138001380')).toEqual([]);
    expect(foundBy('mobile', '条码 138001380001')).toEqual([]);
  });
});

describe('landline detector', () => {
  it.each([['0755-86671234'], ['(020)87654321'], ['（0755）86671234'], ['010 62751234'], ['0755-86671234-8001'], ['0755-86671234转802']])(
    'finds %s',
    (phone) => {
      expect(found(`科室电话${phone}。`)).toEqual([['landline', phone]]);
    },
  );
  it('does not take dates, LOINC codes or plain digit runs for phone numbers', () => {
    expect(found('2024-03-05 检查 2345-7 金额 075586671234 编号 0755-123')).toEqual([]);
  });
});
