/**
 * The patient's own identifying values, read from a FHIR R4 Patient, for the known-value detector:
 * names and their customary Chinese variants, identifier values, phones and e-mails, address parts below
 * city level, and the same for the contacts (relatives). The input is untrusted JSON: anything that is
 * not the expected shape is skipped, never thrown on.
 */
import type { KnownValues } from './types.js';

/** A lone surname or character would erase too much unrelated text; so would a short number (a bed
 *  number, a dose), hence the higher floor for values made only of digits. */
const MIN_LENGTH = 2;
const MIN_DIGITS_ONLY_LENGTH = 4;
const COMPOUND_SURNAMES = [
  '欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '宇文', '司徒', '夏侯', '令狐', '端木', '西门',
];
const HAN_ONLY = /^\p{Script=Han}+$/u;

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function asObjects(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(asObject).filter((item): item is Json => item !== undefined) : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(asString).filter((item): item is string => item !== undefined) : [];
}

/** A Chinese name written without family/given: split off a compound or single-character surname. */
function splitChineseName(text: string): { family: string; given: string } | undefined {
  if (!HAN_ONLY.test(text) || text.length < 2 || text.length > 4) return undefined;
  const compound = COMPOUND_SURNAMES.find((surname) => text.startsWith(surname) && text.length > surname.length);
  const family = compound ?? text.slice(0, 1);
  return { family, given: text.slice(family.length) };
}

/** 张先生, 张女士, 张某, 张某某, and the masked forms 张*荣, 张**, 张某荣 that records and letters use. */
function surnameVariants(family: string, given: string): string[] {
  const variants = [`${family}先生`, `${family}女士`, `${family}某`, `${family}某某`, `${family}*`, `${family}＊`];
  const givenCharacters = [...given];
  const last = givenCharacters.at(-1);
  if (givenCharacters.length > 0) {
    variants.push(family + '*'.repeat(givenCharacters.length), family + '＊'.repeat(givenCharacters.length));
  }
  if (givenCharacters.length >= 2 && last !== undefined) {
    const hidden = givenCharacters.length - 1;
    variants.push(`${family}${'*'.repeat(hidden)}${last}`, `${family}${'＊'.repeat(hidden)}${last}`);
    variants.push(`${family}${'某'.repeat(hidden)}${last}`);
  }
  return variants;
}

function nameValues(name: Json): string[] {
  const values: string[] = [];
  const text = asString(name['text']);
  const family = asString(name['family']);
  const given = asStrings(name['given']);
  if (text !== undefined) values.push(text);
  if (family !== undefined && given.length > 0) {
    values.push(family + given.join(''), [family, ...given].join(' '), [...given, family].join(' '));
  }
  const chinese =
    family !== undefined && HAN_ONLY.test(family)
      ? { family, given: given.join('') }
      : text !== undefined
        ? splitChineseName(text.replace(/\s+/g, ''))
        : undefined;
  if (chinese !== undefined) values.push(...surnameVariants(chinese.family, chinese.given));
  return values;
}

/** A phone as written, plus its bare digits: without +86/0086, and a landline's local part alone. */
function phoneValues(phone: string): string[] {
  const values = [phone];
  let digits = phone.replace(/\D/g, '');
  if (/^(?:0086|86)1[3-9]\d{9}$/.test(digits)) digits = digits.replace(/^(?:00)?86/, '');
  values.push(digits);
  const landline = /^0\d{2,3}[^\d]*([1-9]\d{6,7})(?:\D|$)/.exec(phone.replace(/^\+86\s*/, '0'));
  if (landline?.[1] !== undefined) values.push(landline[1]);
  return values;
}

function telecomValues(telecom: unknown): string[] {
  const values: string[] = [];
  for (const point of asObjects(telecom)) {
    const value = asString(point['value']);
    if (value === undefined) continue;
    const system = asString(point['system']);
    values.push(...(system === 'phone' || system === 'sms' || system === 'fax' ? phoneValues(value) : [value]));
  }
  return values;
}

/** Address parts below city level (the level that de-identified records may keep). */
function addressValues(address: Json): string[] {
  return [
    ...asStrings(address['line']),
    ...[address['district'], address['text'], address['postalCode']].map(asString),
  ].filter((value): value is string => value !== undefined);
}

function isSpecificEnough(value: string): boolean {
  return value.length >= (/^\d+$/.test(value) ? MIN_DIGITS_ONLY_LENGTH : MIN_LENGTH);
}

export function knownValuesFromPatient(patient: unknown): KnownValues {
  const resource = asObject(patient);
  if (resource === undefined) return { values: [] };
  const values: string[] = [];
  for (const name of asObjects(resource['name'])) values.push(...nameValues(name));
  for (const identifier of asObjects(resource['identifier'])) {
    const value = asString(identifier['value']);
    if (value !== undefined) values.push(value);
  }
  values.push(...telecomValues(resource['telecom']));
  for (const address of asObjects(resource['address'])) values.push(...addressValues(address));
  for (const contact of asObjects(resource['contact'])) {
    const name = asObject(contact['name']);
    if (name !== undefined) values.push(...nameValues(name));
    values.push(...telecomValues(contact['telecom']));
    const address = asObject(contact['address']);
    if (address !== undefined) values.push(...addressValues(address));
  }
  const distinct = [...new Set(values.filter(isSpecificEnough))];
  distinct.sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return { values: distinct };
}
