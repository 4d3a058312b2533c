/**
 * The operator's intake configuration: which identifiers are resident IDs, and where a hospital's own
 * export carries an amount that belongs in the standard element (an extension URL, or a FHIRPath
 * expression). Validated when loaded (the gateway refuses to start on a bad file); applied before any
 * check, so a mapped amount is validated, de-identified and delivered like a standard one.
 */
import { readFileSync } from 'node:fs';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { AMOUNT_CATEGORY, adjudicationOf, entriesOf, fenOfMoney, type AmountElement, type StayAmounts } from './amounts.js';
import { DEFAULT_RESIDENT_ID_RULE, type ResidentIdRule } from './resident-id.js';
import { compileSchema, readSchema } from './schemas.js';
import { arrayOf, isObject, problemLine, type BundleEntry, type Json, type Problem } from './types.js';

/** The extension hdx's own bundles used for the 医保 share before profile v1; mapped for every hospital. */
export const LEGACY_SOCIAL_INSURANCE_PAID_URL = 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid';

export interface AmountMapping {
  element: AmountElement;
  /** Party ids of the hospitals whose exports this applies to; all when absent. */
  hospitals?: string[];
  /** An extension URL, found on any resource (or only on `resourceType`); valueMoney or valueDecimal. */
  extension?: string;
  resourceType?: string;
  /** A FHIRPath expression over the Bundle giving a Money or a decimal. */
  path?: string;
}

export interface IntakeConfig {
  residentId: ResidentIdRule;
  mappings: AmountMapping[];
}

const BUILT_IN_MAPPINGS: AmountMapping[] = [
  { element: 'socialInsurancePaid', extension: LEGACY_SOCIAL_INSURANCE_PAID_URL, resourceType: 'Coverage' },
];

export const DEFAULT_INTAKE: IntakeConfig = { residentId: DEFAULT_RESIDENT_ID_RULE, mappings: BUILT_IN_MAPPINGS };

export class IntakeConfigError extends Error {}

const validateIntake = compileSchema(readSchema('intake.schema.json'));

/** Checks a parsed configuration; throws IntakeConfigError naming every problem. */
export function parseIntakeConfig(value: unknown, source = 'intake configuration'): IntakeConfig {
  const problems = validateIntake(value, 'intake');
  const raw = value as { residentId?: ResidentIdRule; mappings?: AmountMapping[] };
  raw.mappings?.forEach((m, i) => {
    if (!isObject(m)) return;
    if ((m.extension === undefined) === (m.path === undefined)) {
      problems.push({ path: `intake.mappings[${i}]`, expected: 'must name exactly one source: extension or path' });
    }
    if (typeof m.path !== 'string') return;
    try {
      fhirpath.compile(m.path, r4);
    } catch {
      problems.push({ path: `intake.mappings[${i}].path`, expected: 'must be a FHIRPath expression that parses' });
    }
  });
  if (problems.length > 0) throw new IntakeConfigError(`${source}: ${problems.map(problemLine).join('; ')}`);
  return {
    residentId: raw.residentId ?? DEFAULT_RESIDENT_ID_RULE,
    mappings: [...BUILT_IN_MAPPINGS, ...(raw.mappings ?? [])],
  };
}

export function loadIntakeConfig(path: string): IntakeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IntakeConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IntakeConfigError(`${path}: is not valid JSON`);
  }
  return parseIntakeConfig(parsed, path);
}

/** Every valueMoney/valueDecimal of extensions with `url`, at any depth of the resource. */
function extensionValues(node: unknown, url: string, out: unknown[]): unknown[] {
  if (Array.isArray(node)) for (const item of node) extensionValues(item, url, out);
  else if (isObject(node)) {
    if (node['url'] === url && ('valueMoney' in node || 'valueDecimal' in node)) out.push(node['valueMoney'] ?? node['valueDecimal']);
    for (const [key, child] of Object.entries(node)) if (key !== 'url' && typeof child === 'object') extensionValues(child, url, out);
  }
  return out;
}

function fenOfValue(value: unknown): number | undefined {
  return typeof value === 'number' ? fenOfMoney({ value }) : fenOfMoney(value);
}

interface Found {
  fen: number;
  /** The Coverage the value was found on, for the EOB's insurance. */
  coverage?: BundleEntry;
}

function findMapped(bundle: Json, entries: BundleEntry[], mapping: AmountMapping, index: number): Found | Problem | undefined {
  const hits: Found[] = [];
  let unreadable = false;
  if (mapping.extension !== undefined) {
    for (const entry of entries) {
      if (mapping.resourceType !== undefined && entry.resource['resourceType'] !== mapping.resourceType) continue;
      for (const value of extensionValues(entry.resource, mapping.extension, [])) {
        const fen = fenOfValue(value);
        if (fen === undefined) unreadable = true;
        else hits.push({ fen, ...(entry.resource['resourceType'] === 'Coverage' && { coverage: entry }) });
      }
    }
  } else if (mapping.path !== undefined) {
    for (const value of fhirpath.evaluate(bundle, mapping.path, {}, r4) as unknown[]) {
      const fen = fenOfValue(value);
      if (fen === undefined) unreadable = true;
      else hits.push({ fen });
    }
  }
  const where = `intake.mappings[${index}] (${mapping.element})`;
  if (unreadable) return { path: where, expected: 'must find a Money in CNY or a non-negative decimal' };
  if (new Set(hits.map((h) => h.fen)).size > 1) return { path: where, expected: 'must find one amount, not several that differ' };
  return hits[0];
}

function referenceTo(entry: BundleEntry | undefined): Json | undefined {
  if (!entry) return undefined;
  if (entry.fullUrl) return { reference: entry.fullUrl };
  return typeof entry.resource['id'] === 'string' ? { reference: `${String(entry.resource['resourceType'])}/${entry.resource['id']}` } : undefined;
}

/** A minimal 医保 ExplanationOfBenefit for a bundle that carries its amounts elsewhere. */
function newAdjudication(bundle: Json, entries: BundleEntry[], coverage: BundleEntry | undefined): Json {
  const find = (type: string) => entries.find((e) => e.resource['resourceType'] === type);
  const encounter = find('Encounter')?.resource;
  const period = isObject(encounter?.['period']) ? (encounter['period'] as Json) : undefined;
  const invoiceDate = find('Invoice')?.resource['date'];
  const eob: Json = {
    resourceType: 'ExplanationOfBenefit',
    id: 'hdx-mapped-adjudication',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'institutional' }] },
    use: 'claim',
    patient: referenceTo(find('Patient')) ?? { display: 'patient' },
    ...(period && { billablePeriod: period }),
    created: typeof invoiceDate === 'string' ? invoiceDate : (period?.['end'] ?? bundle['timestamp']),
    insurer: { display: '基本医疗保险' },
    provider: isObject(encounter?.['serviceProvider']) ? encounter['serviceProvider'] : { display: 'hospital' },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: referenceTo(coverage) ?? { display: '基本医疗保险' } }],
    total: [],
  };
  const list = arrayOf(bundle['entry']);
  list.push({ resource: eob });
  bundle['entry'] = list;
  return eob;
}

/**
 * Copies into the 医保 EOB each amount that the standard elements lack and a mapping finds; returns the
 * elements it filled and any problem with a mapping. Changes `bundle` in place.
 */
export function applyMappings(
  bundle: Json,
  config: IntakeConfig,
  hospitalId: string | undefined,
  present: StayAmounts,
): { mapped: AmountElement[]; problems: Problem[] } {
  const entries = entriesOf(bundle);
  const mapped: AmountElement[] = [];
  const problems: Problem[] = [];
  let eob = adjudicationOf(entries);
  config.mappings.forEach((mapping, index) => {
    if (present[mapping.element] !== undefined || mapped.includes(mapping.element)) return;
    if (mapping.hospitals && (hospitalId === undefined || !mapping.hospitals.includes(hospitalId))) return;
    const found = findMapped(bundle, entries, mapping, index);
    if (found === undefined) return;
    if ('path' in found) return void problems.push(found);
    eob ??= newAdjudication(bundle, entries, found.coverage);
    const { system, code, display } = AMOUNT_CATEGORY[mapping.element];
    eob['total'] = [...arrayOf(eob['total']), { category: { coding: [{ system, code, display }] }, amount: { value: found.fen / 100, currency: 'CNY' } }];
    mapped.push(mapping.element);
  });
  return { mapped, problems };
}
