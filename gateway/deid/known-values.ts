/**
 * What the scrubber looks for besides the generic detectors: the patient's own values (from the
 * Patient resource, via the detectors' `collectKnownValues`), every identifier value in the
 * submission (a visit number recurs in the note), the birth date as it is written in Chinese records,
 * and the shapes of the hospital's record numbers (so a different visit's number is caught too).
 */
import { compactForm } from './detectors/normalize.js';
import { collectKnownValues, type DetectOptions } from './detectors/index.js';
import type { FNode } from './engine/node.js';

type Json = Record<string, unknown>;

const MIN_IDENTIFIER_LENGTH = 4;

/** 1986-03-20 → 1986年3月20日, 1986年03月20日, 1986.03.20, 1986/3/20 … */
function birthDateForms(birthDate: unknown): string[] {
  if (typeof birthDate !== 'string') return [];
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (m === null) return [];
  const [, y, mm, dd] = m as unknown as [string, string, string, string];
  const forms = new Set<string>();
  for (const month of [mm, String(Number(mm))]) {
    for (const day of [dd, String(Number(dd))]) {
      forms.add(`${y}年${month}月${day}日`);
      forms.add(`${y}.${month}.${day}`);
      forms.add(`${y}/${month}/${day}`);
    }
  }
  forms.add(birthDate);
  forms.add(`${y}${mm}${dd}`);
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// One RegExp per shape, reused across records (the detectors cache their compiled copy per object).
const shapes = new Map<string, RegExp>();
// How many digits a text must hold for a shape to match in it.
const shapeDigits = new WeakMap<RegExp, number>();

/** The digits a text needs for `pattern` to match: known for shapes from `shapeOf`, else 0. */
export function digitsNeeded(pattern: RegExp): number {
  return shapeDigits.get(pattern) ?? 0;
}

/** ZY2024050815 → /(?<![A-Za-z0-9])ZY\d{10}(?![A-Za-z0-9])/: other numbers of the same shape. */
export function shapeOf(value: string): RegExp | undefined {
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  if (digits < 6) return undefined; // shorter shapes catch ordinary numbers
  let body = '';
  let run = 0;
  let text = 0;
  for (let i = 0; i <= value.length; i++) {
    const code = i < value.length ? value.charCodeAt(i) : -1;
    const digit = code >= 48 && code <= 57;
    if (run > 0 && !digit) {
      body += `\\d{${run}}`;
      run = 0;
    }
    if (digit) {
      if (i > text) body += escapeRegExp(value.slice(text, i));
      text = i + 1;
      run++;
    } else if (code === -1 && i > text) {
      body += escapeRegExp(value.slice(text, i));
    }
  }
  const source = `(?<![A-Za-z0-9])${body}(?![A-Za-z0-9])`;
  let shape = shapes.get(source);
  if (shape === undefined) {
    if (shapes.size >= 1_000) shapes.clear();
    shape = new RegExp(source);
    shapes.set(source, shape);
    shapeDigits.set(shape, digits);
  }
  return shape;
}

export interface IdentifierValue {
  system: string | undefined;
  value: string;
}

/** System and value of Identifier nodes (collected by the parser, before any rule ran). */
export function identifierValues(nodes: readonly FNode[]): IdentifierValue[] {
  const out: IdentifierValue[] = [];
  for (const node of nodes) {
    let system: string | undefined;
    let value: string | undefined;
    for (const child of node.children) {
      if (child.name === 'system' && typeof child.value === 'string') system = child.value;
      else if (child.name === 'value' && typeof child.value === 'string') value = child.value;
    }
    if (value !== undefined) out.push({ system, value });
  }
  return out;
}

/**
 * The scrubber's options. The known values are in no particular order: the known-value detector orders
 * them itself (longest first) and the scrubber's pre-check does not depend on order.
 */
export function detectOptionsFor(identifiers: readonly IdentifierValue[], patient: Json | undefined, hospitalSystems: readonly string[]): DetectOptions {
  const values = new Set<string>(patient === undefined ? [] : collectKnownValues(patient));
  for (const { value } of identifiers) {
    const trimmed = value.trim();
    if (trimmed.length >= MIN_IDENTIFIER_LENGTH) values.add(trimmed).add(compactForm(trimmed));
  }
  for (const form of birthDateForms(patient?.['birthDate'])) values.add(form);
  const shapes = new Map<string, RegExp>();
  if (hospitalSystems.length > 0) {
    for (const { system, value } of identifiers) {
      if (system === undefined || !hospitalSystems.includes(system)) continue;
      const shape = shapeOf(value.trim());
      if (shape !== undefined) shapes.set(shape.source, shape);
    }
  }
  return { known: { values: [...values] }, recordNumberPatterns: [...shapes.values()] };
}
