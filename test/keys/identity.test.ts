import { describe, expect, it } from 'vitest';
import { InvalidPartyUri } from '../../keys/errors.js';
import { isPartyId, parsePartyUri, parsePartyUriOf, partyUri } from '../../keys/identity.js';

describe('party URIs', () => {
  it('builds and parses spiffe://<td>/<role>/<id>', () => {
    const uri = partyUri('hdx.local', 'hospital', 'nanshan-people');
    expect(uri).toBe('spiffe://hdx.local/hospital/nanshan-people');
    expect(parsePartyUri(uri)).toEqual({ trustDomain: 'hdx.local', role: 'hospital', id: 'nanshan-people' });
    expect(parsePartyUriOf('spiffe://hdx.local/gateway/gateway', 'gateway', 'hdx.local').id).toBe('gateway');
  });

  it('checks ids', () => {
    expect(isPartyId('a1')).toBe(true);
    expect(isPartyId('a')).toBe(false);
    expect(isPartyId('-ab')).toBe(false);
    expect(isPartyId('Ab')).toBe(false);
    expect(isPartyId('a'.repeat(63))).toBe(true);
    expect(isPartyId('a'.repeat(64))).toBe(false);
  });

  it.each([
    'spiffe://hdx.local/hospital/nanshan-people/',
    'spiffe://hdx.local/hospital/nanshan-people/x',
    'spiffe://hdx.local/doctor/nanshan-people',
    'spiffe://hdx.local:443/hospital/nanshan-people',
    'spiffe://user@hdx.local/hospital/nanshan-people',
    'spiffe://hdx.local/hospital/nanshan-people?x=1',
    'spiffe://hdx.local/hospital/nanshan-people#f',
    'spiffe://hdx.local/hospital/Nanshan-people',
    'spiffe://HDX.local/hospital/nanshan-people',
    'spiffe://hdx.local/hospital/nanshan%2Dpeople',
    'https://hdx.local/hospital/nanshan-people',
    'spiffe://hdx..local/hospital/nanshan-people',
    ' spiffe://hdx.local/hospital/nanshan-people',
    '',
  ])('refuses %j', (uri) => {
    expect(() => parsePartyUri(uri)).toThrow(InvalidPartyUri);
  });

  it('refuses a non-string and a wrong role', () => {
    expect(() => parsePartyUri(42 as unknown as string)).toThrow(InvalidPartyUri);
    expect(() => parsePartyUriOf('spiffe://hdx.local/insurer/x1', 'hospital')).toThrow(InvalidPartyUri);
    expect(() => parsePartyUriOf('spiffe://other.local/insurer/x1', 'insurer', 'hdx.local')).toThrow(InvalidPartyUri);
  });

  it('treats bad parts given by the caller as misuse', () => {
    expect(() => partyUri('hdx.local', 'hospital', 'X')).toThrow(TypeError);
    expect(() => partyUri('bad domain', 'hospital', 'ab')).toThrow(TypeError);
    expect(() => partyUri('hdx.local', 'doctor' as never, 'ab')).toThrow(TypeError);
  });
});
