import { describe, expect, it } from 'vitest';
import { knownValuesFromPatient } from '../../gateway/deid/detectors/index.js';
import { found } from './found.js';

const patient = {
  resourceType: 'Patient',
  name: [{ text: '张建荣', family: '张', given: ['建荣'] }],
  identifier: [
    { system: 'urn:oid:2.16.156.10011.1.1', value: '11010519491231002X' },
    { system: 'https://nanshan.hospital.hdx.local/mrn', value: '0012345678' },
    { system: 'urn:hdx:cn:social-insurance-card', value: '' },
  ],
  telecom: [
    { system: 'phone', value: '+86 138-0013-8000' },
    { system: 'phone', value: '0755-86671234', use: 'work' },
    { system: 'email', value: 'jr.zhang@example.com' },
  ],
  address: [
    {
      text: '广东省深圳市南山区科技园南路88号阳光花园3栋1203室',
      line: ['科技园南路88号阳光花园3栋1203室'],
      city: '深圳市',
      district: '南山区',
      state: '广东省',
      postalCode: '518057',
    },
  ],
  contact: [
    { relationship: [{ text: '配偶' }], name: { text: '王芳' }, telecom: [{ system: 'phone', value: '139-0013-9000' }] },
    { name: { family: '欧阳', given: ['小明'] } },
  ],
};

describe('knownValuesFromPatient', () => {
  const { values } = knownValuesFromPatient(patient);

  it('takes names, identifiers, telecoms, address parts and relatives', () => {
    expect(values).toEqual(
      expect.arrayContaining([
        '张建荣', '张 建荣', '11010519491231002X', '0012345678', '+86 138-0013-8000', '13800138000', '0755-86671234',
        '075586671234', '86671234', 'jr.zhang@example.com', '科技园南路88号阳光花园3栋1203室',
        '广东省深圳市南山区科技园南路88号阳光花园3栋1203室', '南山区', '518057', '王芳', '139-0013-9000', '13900139000',
        '欧阳小明',
      ]),
    );
  });
  it('adds the surname-based and masked forms of Chinese names, also of relatives', () => {
    expect(values).toEqual(
      expect.arrayContaining(['张先生', '张女士', '张某', '张某某', '张*荣', '张＊荣', '张**', '张某荣', '王女士', '王某', '欧阳先生', '欧阳*明']),
    );
  });
  it('skips values shorter than two characters, keeps no duplicates, and sorts longest first', () => {
    expect(values.every((value) => value.length >= 2)).toBe(true);
    expect(values).not.toContain('张');
    expect(new Set(values).size).toBe(values.length);
    for (let i = 1; i < values.length; i++) expect(values[i - 1]!.length).toBeGreaterThanOrEqual(values[i]!.length);
  });
  it('skips numbers shorter than four digits, which would erase doses and bed numbers', () => {
    const { values: short } = knownValuesFromPatient({ identifier: [{ value: '12' }, { value: '123' }, { value: '1234' }, { value: 'A1' }] });
    expect(short).toEqual(['1234', 'A1']);
  });
  it('ignores city and province, which de-identified data may keep', () => {
    expect(values).not.toContain('深圳市');
    expect(values).not.toContain('广东省');
  });
  it('returns nothing for input that is not a Patient-shaped object, and never throws', () => {
    expect(knownValuesFromPatient(null).values).toEqual([]);
    expect(knownValuesFromPatient('张建荣').values).toEqual([]);
    expect(knownValuesFromPatient({ name: 'x', telecom: [null, 3, { value: 7 }], contact: {} }).values).toEqual([]);
  });
  it('splits a Chinese name given only as text into surname and given name', () => {
    const { values: fromText } = knownValuesFromPatient({ name: [{ text: '李娜' }] });
    expect(fromText).toEqual(expect.arrayContaining(['李娜', '李女士', '李*', '李某']));
  });
});

describe('known-value detector', () => {
  const known = knownValuesFromPatient(patient);

  it('finds every variant in free text, preferring the longest', () => {
    const text = '张建荣（张先生）由张某某陪同；化验单写作张*荣、张**，家属王芳。';
    expect(found(text, { known })).toEqual([
      ['known-value', '张建荣'],
      ['known-value', '张先生'],
      ['known-value', '张某某'],
      ['known-value', '张*荣'],
      ['known-value', '张**'],
      ['known-value', '王芳'],
    ]);
  });
  it('ignores the case of Latin letters', () => {
    expect(found('signed by ZHANG JIANRONG', { known: { values: ['Zhang Jianrong'] } })).toEqual([
      ['known-value', 'ZHANG JIANRONG'],
    ]);
  });
  it('leaves other people with other names alone', () => {
    expect(found('主治医师李明，护士陈静，深圳市人民医院', { known })).toEqual([]);
  });
  it('treats regex characters in values literally', () => {
    const special = { values: ['a.b*c(d)', 'x+y'] };
    expect(found('aXbbc(d) a.b*c(d) xxy x+y', { known: special })).toEqual([
      ['known-value', 'a.b*c(d)'],
      ['known-value', 'x+y'],
    ]);
  });
  it('sees values added to the same array later', () => {
    const growing = { values: ['赵大'] };
    expect(found('赵大与钱二', { known: growing })).toHaveLength(1);
    growing.values.push('钱二');
    expect(found('赵大与钱二', { known: growing })).toHaveLength(2);
  });
});
