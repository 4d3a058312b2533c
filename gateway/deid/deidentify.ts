/**
 * One record, one insurer: the gateway's de-identification as a short list of named steps.
 * (`deidentifyWithTree` below, on the element tree; one-pass.ts produces the same in one pass over the
 * JSON where it can, and is tried first.)
 *   parse → pruneToConsent → rewriteReferences → pseudonymisePatient → setPolicyNumber
 *   → runProfile → scrubFreeText → write
 * The steps before the profile guarantee what the exchange promises whatever the profile says
 * (consented categories only, no direct identifiers on the Patient, the pseudonym, the policy number);
 * the profile then decides, element by element, what else goes.
 */
import { InvalidInput } from '../errors.js';
import { dropFreeText, FREE_TEXT_TYPES, isConsented } from './categories.js';
import { DeidProcessingError } from './engine/errors.js';
import { emptyResource } from './engine/labels.js';
import { pruneEmpty, resourceFromJson, toJson, type FNode, type ParseStats } from './engine/node.js';
import { runProfile } from './engine/run.js';
import type { CompiledProfile } from './engine/types.js';
import { detectOptionsFor, identifierValues } from './known-values.js';
import { pseudonymisePatient } from './patient.js';
import { setPolicyNumber } from './policy.js';
import { rewriteReferences, Targets, type EntryKey } from './references.js';
import { Bail, deidentifyOnePass } from './one-pass.js';
import { Scrubber } from './scrub-text.js';
import { entryResources } from './tree.js';
import { DATA_CATEGORIES, type DataCategory, type DeidContext, type DeidReport } from './types.js';

type Json = Record<string, unknown>;

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
// Collected while parsing: identifiers (known values) and free-text elements (pruned by consent).
const COLLECTED_TYPES: ReadonlySet<string> = new Set(['Identifier', ...FREE_TEXT_TYPES]);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function add(counts: Record<string, number>, key: string, n = 1): void {
  if (n !== 0) counts[key] = (counts[key] ?? 0) + n;
}

/** Caller misuse is a TypeError (the gateway's bug), not the hospital's InvalidInput. */
function checkContext(ctx: DeidContext): ReadonlySet<DataCategory> {
  if (typeof ctx.pseudonym !== 'string' || !FHIR_ID.test(ctx.pseudonym)) throw new TypeError('pseudonym must be a FHIR id ([A-Za-z0-9-.]{1,64})');
  if (typeof ctx.policyNumber !== 'string' || ctx.policyNumber === '') throw new TypeError('policyNumber is required');
  for (const category of ctx.categories) {
    if (!DATA_CATEGORIES.includes(category)) throw new TypeError(`unknown data category ${String(category)}`);
  }
  return new Set(ctx.categories);
}

interface Entry extends EntryKey {
  json: Json | undefined;
}

/** The entries as submitted, before anything changes: what references may point at. */
function entriesOf(bundle: Json): Entry[] {
  const list = Array.isArray(bundle['entry']) ? (bundle['entry'] as unknown[]) : [];
  const out: Entry[] = [];
  for (const entry of list) {
    if (entry === null || entry === undefined) continue; // the parser skips these too
    const resource = isObject(entry) && isObject(entry['resource']) ? entry['resource'] : undefined;
    out.push({
      fullUrl: isObject(entry) && typeof entry['fullUrl'] === 'string' ? entry['fullUrl'] : undefined,
      type: typeof resource?.['resourceType'] === 'string' ? resource['resourceType'] : '',
      id: typeof resource?.['id'] === 'string' ? resource['id'] : undefined,
      json: resource,
    });
  }
  return out;
}

/** The record's subject: the Patient the Encounter is about, else the first Patient. */
function subjectOf(entries: readonly Entry[], targets: Targets): Entry | undefined {
  const patients = entries.filter((entry) => entry.type === 'Patient');
  const encounter = entries.find((entry) => entry.type === 'Encounter')?.json;
  const subject = isObject(encounter?.['subject']) ? (encounter['subject'] as Json)['reference'] : undefined;
  const wanted = typeof subject === 'string' ? targets.get(subject) ?? subject : undefined;
  return patients.find((patient) => patient.id !== undefined && `Patient/${patient.id}` === wanted) ?? patients[0];
}

/**
 * Which implementation runs: `auto` tries the one-pass path and falls back to the tree; `tree` and
 * `one-pass` force one (the latter throws `Bail` where it does not apply) — for tests.
 */
export type DeidPath = 'auto' | 'tree' | 'one-pass';

export function deidentifyBundle(profile: CompiledProfile, input: unknown, ctx: DeidContext, path: DeidPath = 'auto'): { bundle: Json; report: DeidReport } {
  const categories = checkContext(ctx);
  if (!isObject(input) || input['resourceType'] !== 'Bundle') throw new InvalidInput('the record is not a FHIR Bundle');
  if (input['entry'] !== undefined && !Array.isArray(input['entry'])) throw new InvalidInput('Bundle.entry must be a list');
  const submitted = entriesOf(input);
  const targets = new Targets(submitted);
  const subject = subjectOf(submitted, targets);
  if (path !== 'tree') {
    try {
      return deidentifyOnePass({ profile, input, ctx, categories, submitted, targets, subject });
    } catch (error) {
      // Whatever stops the one-pass path (the input is untouched), the tree path decides: the same
      // output, or the error it names.
      if (path === 'one-pass') throw error;
      if (!(error instanceof Bail)) onePassFailures++;
    }
  }
  return deidentifyWithTree(profile, input, ctx, categories, submitted, targets.map(), subject);
}

/** Failures of the one-pass path other than `Bail` (a bug there; the tree path answered instead). */
export let onePassFailures = 0;

function deidentifyWithTree(
  profile: CompiledProfile, input: Json, ctx: DeidContext, categories: ReadonlySet<DataCategory>, submitted: Entry[],
  targets: Map<string, string>, subject: Entry | undefined,
): { bundle: Json; report: DeidReport } {
  // parse: the submission is read once into the element tree; the input is not modified.
  const collected: FNode[] = [];
  const stats: ParseStats = { unknownElements: 0, collectTypes: COLLECTED_TYPES, collected };
  const root = resourceFromJson(input, stats);
  const identifiers = collected.filter((node) => node.type === 'Identifier');
  const detectOptions = detectOptionsFor(identifierValues(identifiers), subject?.json, ctx.hospitalIdentifierSystems ?? []);
  const methods: Record<string, number> = {};
  const resourcesDropped: Record<string, number> = {};

  // pruneToConsent: the subject Patient, and resources (entries, contained) in consented categories.
  let patient: FNode | undefined;
  let resourcesIn = 0;
  let position = 0;
  root.children = root.children.filter((node) => {
    if (node.name !== 'entry') return true;
    resourcesIn++;
    const entry = submitted[position++];
    let resource: FNode | undefined;
    for (const c of node.children) if (c.resource) resource = c;
    const isSubject = resource !== undefined && entry === subject;
    if (isSubject) patient = resource;
    const keep = resource !== undefined && (isSubject || (resource.type !== 'Patient' && isConsented(resource.type, categories)));
    if (!keep) add(resourcesDropped, resource?.type ?? '(no resource)');
    return keep;
  });
  const kept = new Set<string>();
  for (const resource of entryResources(root)) {
    if (resource.children.some((c) => c.resource)) {
      resource.children = resource.children.filter((c) => {
        if (!c.resource || (c.type !== 'Patient' && isConsented(c.type, categories))) return true;
        add(resourcesDropped, c.type);
        return false;
      });
    }
    const id = resource.children.find((c) => c.name === 'id')?.value;
    if (typeof id === 'string') kept.add(`${resource.type}/${id}`);
  }
  add(methods, 'free-text-dropped', dropFreeText(collected.filter((node) => FREE_TEXT_TYPES.has(node.type)), categories.has('notes')));

  // rewriteReferences, pseudonymisePatient, setPolicyNumber: protected from the profile and the scrubber.
  const references = rewriteReferences(root, {
    targets, kept,
    patient: subject?.id === undefined ? undefined : `Patient/${subject.id}`,
    patientReplacement: `Patient/${ctx.pseudonym}`,
  });
  add(methods, 'references-dropped', references.dropped);
  const protectedNodes = new Set<FNode>(references.protectedNodes);
  if (patient !== undefined) {
    const outcome = pseudonymisePatient(patient, ctx.pseudonym);
    add(methods, 'patient-identifiers-removed', outcome.removed);
    protectedNodes.add(outcome.idNode);
  }
  add(methods, 'pseudonym', references.pseudonymised + (patient === undefined ? 0 : 1));
  const policy = setPolicyNumber(root, ctx.policyNumber, ctx.pseudonym);
  for (const node of policy.protectedNodes) protectedNodes.add(node);
  add(methods, 'policy-number');
  if (policy.added) add(methods, 'coverage-added');
  add(methods, 'unknown-elements-dropped', stats.unknownElements);

  try {
    // runProfile: per-insurer keys; dates shift by one offset per patient and insurer.
    const counts = runProfile(profile, root, { keys: ctx.keys, dateShiftKeyPrefix: ctx.pseudonym });
    for (const method in counts.methods) add(methods, method, counts.methods[method]);
    // scrubFreeText, then write.
    const scrubber = new Scrubber(detectOptions, protectedNodes);
    scrubber.run(root);
    pruneEmpty(root);
    return {
      bundle: toJson(root),
      report: {
        profile: profile.name,
        resourcesIn,
        resourcesOut: entryResources(root).length,
        resourcesDropped,
        methods,
        detectors: scrubber.counts,
      },
    };
  } catch (error) {
    if (!(error instanceof DeidProcessingError) || profile.processingErrors !== 'skip') throw error;
    // The profile asks to skip records it cannot process: nothing of the record goes out.
    add(methods, 'processing-error-skipped');
    return {
      bundle: emptyResource('Bundle'),
      report: { profile: profile.name, resourcesIn, resourcesOut: 0, resourcesDropped, methods, detectors: {} },
    };
  }
}
