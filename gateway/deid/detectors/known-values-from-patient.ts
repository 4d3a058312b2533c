/**
 * The patient's own identifying values, read from a FHIR R4 Patient, for the known-value detector:
 * names and their customary Chinese variants, identifier values, phones and e-mails, address parts below
 * city level, and the same for the contacts (relatives). The input is untrusted JSON: anything that is
 * not the expected shape is skipped, never thrown on.
 */
import { compactForm } from './normalize.js';
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

function asString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed !== '' ? trimmed : undefined;
}

/** The objects of a list (anything else in it, or a value that is not a list, is skipped). */
function eachObject(value: unknown, f: (item: Json) => void): void {
  if (!Array.isArray(value)) return;
  for (const item of value) {
    const object = asObject(item);
    if (object !== undefined) f(object);
  }
}

/** A Chinese name written without family/given: split off a compound or single-character surname. */
function splitChineseName(text: string): { family: string; given: string } | undefined {
  if (!HAN_ONLY.test(text) || text.length < 2 || text.length > 4) return undefined;
  const compound = COMPOUND_SURNAMES.find((surname) => text.startsWith(surname) && text.length > surname.length);
  const family = compound ?? text.slice(0, 1);
  return { family, given: text.slice(family.length) };
}

/** 张先生, 张女士, 张某, 张某某, and the masked forms 张*荣, 张**, 张某荣 that records and letters use. */
function surnameVariants(family: string, given: string, out: string[]): void {
  out.push(`${family}先生`, `${family}女士`, `${family}某`, `${family}某某`, `${family}*`, `${family}＊`);
  const givenCharacters = [...given];
  const last = givenCharacters.at(-1);
  if (givenCharacters.length > 0) {
    out.push(family + '*'.repeat(givenCharacters.length), family + '＊'.repeat(givenCharacters.length));
  }
  if (givenCharacters.length >= 2 && last !== undefined) {
    const hidden = givenCharacters.length - 1;
    out.push(`${family}${'*'.repeat(hidden)}${last}`, `${family}${'＊'.repeat(hidden)}${last}`);
    out.push(`${family}${'某'.repeat(hidden)}${last}`);
  }
}

function nameValues(name: Json, out: string[]): void {
  const text = asString(name['text']);
  const family = asString(name['family']);
  const given: string[] = [];
  const rawGiven = name['given'];
  if (Array.isArray(rawGiven)) {
    for (const item of rawGiven) {
      const value = asString(item);
      if (value !== undefined) given.push(value);
    }
  }
  if (text !== undefined) out.push(text);
  if (family !== undefined && given.length > 0) {
    const joined = given.join(' ');
    out.push(family + given.join(''), `${family} ${joined}`, `${joined} ${family}`);
  }
  if (family !== undefined && HAN_ONLY.test(family)) surnameVariants(family, given.join(''), out);
  else if (text !== undefined) {
    const chinese = splitChineseName(text.replace(/\s+/g, ''));
    if (chinese !== undefined) surnameVariants(chinese.family, chinese.given, out);
  }
}

/** A phone as written, plus its bare digits: without +86/0086, and a landline's local part alone. */
function phoneValues(phone: string, out: string[]): void {
  out.push(phone);
  let digits = phone.replace(/\D/g, '');
  if (/^(?:0086|86)1[3-9]\d{9}$/.test(digits)) digits = digits.replace(/^(?:00)?86/, '');
  out.push(digits);
  const landline = /^0\d{2,3}[^\d]*([1-9]\d{6,7})(?:\D|$)/.exec(phone.replace(/^\+86\s*/, '0'));
  if (landline?.[1] !== undefined) out.push(landline[1]);
}

function telecomValues(telecom: unknown, out: string[]): void {
  eachObject(telecom, (point) => {
    const value = asString(point['value']);
    if (value === undefined) return;
    const system = asString(point['system']);
    if (system === 'phone' || system === 'sms' || system === 'fax') phoneValues(value, out);
    else out.push(value);
  });
}

/** Address parts below city level (the level that de-identified records may keep). */
function addressValues(address: Json, out: string[]): void {
  const lines = address['line'];
  if (Array.isArray(lines)) {
    for (const line of lines) {
      const value = asString(line);
      if (value !== undefined) out.push(value);
    }
  }
  for (const key of ['district', 'text', 'postalCode']) {
    const value = asString(address[key]);
    if (value !== undefined) out.push(value);
  }
}

function isSpecificEnough(value: string): boolean {
  if (value.length >= MIN_DIGITS_ONLY_LENGTH) return true;
  if (value.length < MIN_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return true; // not only digits: two characters are enough
  }
  return false;
}

/**
 * The same values as `knownValuesFromPatient`, each once, in no particular order (for callers that
 * index them rather than list them).
 */
export function collectKnownValues(patient: unknown): string[] {
  const resource = asObject(patient);
  if (resource === undefined) return [];
  const values: string[] = [];
  eachObject(resource['name'], (name) => nameValues(name, values));
  eachObject(resource['identifier'], (identifier) => {
    const value = asString(identifier['value']);
    if (value !== undefined) values.push(value);
  });
  telecomValues(resource['telecom'], values);
  eachObject(resource['address'], (address) => addressValues(address, values));
  eachObject(resource['contact'], (contact) => {
    const name = asObject(contact['name']);
    if (name !== undefined) nameValues(name, values);
    telecomValues(contact['telecom'], values);
    const address = asObject(contact['address']);
    if (address !== undefined) addressValues(address, values);
  });
  const seen = new Set<string>();
  const distinct: string[] = [];
  for (const value of values) {
    if (!isSpecificEnough(value)) continue;
    // Also in the form the detectors' compact view writes it (a phone kept as 138 1234 5678).
    for (const form of [value, compactForm(value)]) {
      if (seen.has(form)) continue;
      seen.add(form);
      distinct.push(form);
    }
  }
  return distinct;
}

export function knownValuesFromPatient(patient: unknown): KnownValues {
  const distinct = collectKnownValues(patient);
  distinct.sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return { values: distinct };
}
