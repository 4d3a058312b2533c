/**
 * The gateway's de-identification in one pass over the submitted JSON, for profiles whose rules are
 * planned (plan.ts) for every resource type met: what `deidentifyWithTree` (deidentify.ts) produces —
 * the same bundle, byte for byte, and the same report — without building the element tree.
 *
 * Each element is read once, typed from the R4 model, and written straight to the output with what
 * the steps do to it: consent pruning, free-text dropping, reference rewriting, the patient's
 * pseudonymisation and the policy number decide whether and how it goes on; the plan gives it its rule;
 * the rule's method gives its value; empty elements are never written. Strings that go out are noted as
 * they are written and scrubbed at the end, when every identifier of the submission (which the known
 * values include) has been seen. Parts that go nowhere (dropped entries, dropped free text, removed
 * patient elements) are still read, for the report's counts and the identifiers.
 *
 * Anything uncommon — a malformed element (the tree path names it in its error), primitive extensions
 * (`_x`), nested resources other than contained ones, a rule that fails, a profile that is not planned —
 * throws `Bail` before anything is returned, and the caller runs the tree path instead. The input is
 * never modified. `test/deid/one-pass.test.ts` compares both paths on generated and edge-case bundles.
 */
import { isConsented } from './categories.js';
import { detectOptionsFor, type IdentifierValue } from './known-values.js';
import { securityLabelsJson } from './engine/labels.js';
import { childInfo, childOf, childTable, isResourceType, tableOf, type ChildInfo, type ChildTable } from './engine/model.js';
import { makeNode, type FNode, type Primitive } from './engine/node.js';
import type { PlanEdge, PlanState, ResourcePlan } from './engine/plan.js';
import { parseRelativeReference, transformReferenceId } from './engine/reference.js';
import type { Targets } from './references.js';
import { createRunState, METHOD_FNS, methodCounts } from './engine/run.js';
import { Op, type CompiledProfile, type CompiledRule, type RunState } from './engine/types.js';
import { POLICY_NUMBER_SYSTEM, policyCoverageJson } from './policy.js';
import { Scrubber } from './scrub-text.js';
import type { DataCategory, DeidContext, DeidReport } from './types.js';

type Json = Record<string, unknown>;

/** The input is one the one-pass path does not handle: take the tree path. */
export class Bail extends Error {}
const BAIL = new Bail('one-pass path not applicable');

/** What the caller (deidentify.ts) has already worked out from the submitted entries. */
export interface SubmittedEntry {
  fullUrl: string | undefined;
  type: string;
  id: string | undefined;
  json: Json | undefined;
}

export interface OnePassInput {
  profile: CompiledProfile;
  input: Json;
  ctx: DeidContext;
  categories: ReadonlySet<DataCategory>;
  submitted: readonly SubmittedEntry[];
  targets: Targets;
  subject: SubmittedEntry | undefined;
}

const DIRECT_IDENTIFIERS = new Set(['identifier', 'name', 'telecom', 'photo', 'contact', 'link', 'text', 'extension']);
const ADDRESS_BELOW_CITY = new Set(['line', 'district', 'postalCode', 'text']);
const SOCIAL_INSURANCE_CODE = 'social-medical-insurance';
const TEXT_CONTENT = /^text\/(plain|markdown)\b/i;
// Types whose redaction can keep part of the value (redact.ts): dates, and an Age's decimal.
const PARTIAL_REDACT = new Set(['date', 'dateTime', 'instant', 'decimal']);
// Values the gateway's own steps change or remove before the rules run: a where() reading one of them
// must see the changed tree, which only the tree path has.
const GATEWAY_TOUCHED = new Set(['reference', 'id', 'display', 'line', 'district', 'postalCode', 'text']);

// How an object is special to the gateway's steps.
const PLAIN = 0;
const REFERENCE_RELATIVE = 1; // a reference rewritten to `Type/id`
const REFERENCE_PATIENT = 2; // a reference to the patient: the pseudonym, no display, no identifier
const PATIENT_ADDRESS = 3; // an address of the patient: nothing below city

// Scrub slots.
const TEXT = 0;
const XHTML = 1;
const ATTACHMENT = 2;

// The node a method is applied to, reused (methods are synchronous and keep no reference to it).
const SCRATCH_INFO = childInfo('Bundle', 'id')!;
const SCRATCH_PARENT = makeNode(SCRATCH_INFO, 'Bundle', 'Bundle', null, null, true);
const SCRATCH = makeNode(SCRATCH_INFO, 'string', 'string', null, SCRATCH_PARENT, false);

const usable = new WeakMap<CompiledProfile, boolean>();

/** Whether the profile's rules can run in one pass at all (each resource type is checked as met). */
function profileUsable(profile: CompiledProfile): boolean {
  let ok = usable.get(profile);
  if (ok === undefined) {
    ok = !profile.rules.some(
      (rule) => rule.selector.kind === 'steps' && rule.selector.steps.some((step) => step.kind === 'whereEquals' && GATEWAY_TOUCHED.has(step.child)),
    );
    usable.set(profile, ok);
  }
  return ok;
}

/** categories.ts's FREE_TEXT_TYPES, as comparisons (this runs for every element). */
function isFreeText(type: string): boolean {
  return type === 'Narrative' || type === 'Annotation' || type === 'Attachment';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): value is Primitive {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

function add(counts: Record<string, number>, key: string, n = 1): void {
  if (n !== 0) counts[key] = (counts[key] ?? 0) + n;
}

/** A primitive's value(s) as the parser reads them: nulls skipped, anything but primitives refused. */
function checkPrimitive(value: unknown): number {
  if (Array.isArray(value)) {
    let n = 0;
    for (const item of value) {
      if (item === null) continue;
      if (!isPrimitive(item)) throw BAIL;
      n++;
    }
    return n;
  }
  if (!isPrimitive(value)) throw BAIL;
  return 1;
}

/**
 * `child(node, key)?.value` on the JSON of a non-repeating element given once. (A `_key` would make it
 * differ; every object read here is also walked, and the walk refuses `_` keys.)
 */
function single(json: Json, key: string): unknown {
  const value = json[key];
  if (Array.isArray(value)) throw BAIL;
  return value;
}

class OnePass {
  readonly state: RunState;
  private readonly notes: boolean;
  private readonly targets: Targets;
  /** Per submitted entry, whether consent pruning keeps it. */
  private keep: boolean[] = [];
  /** `Type/id` of the entries kept (references.ts's `kept`), built only if a reference needs it. */
  private kept: Set<string> | undefined;
  private readonly patientReference: string | undefined;
  private readonly pseudonymReference: string;
  readonly identifiers: IdentifierValue[] = [];
  unknownElements = 0;
  freeTextDropped = 0;
  referencesDropped = 0;
  referencesPseudonymised = 0;
  patientRemoved = 0;
  readonly resourcesDropped: Record<string, number> = {};
  // Scrub slots, in document order: kind, container, key (or, for attachments, hadSize/hadHash bits).
  readonly slotKinds: number[] = [];
  readonly slotContainers: (Json | Primitive[])[] = [];
  readonly slotKeys: (string | number)[] = [];
  // The resource being written: its plan and what was done to it.
  private plan: ResourcePlan | undefined;
  private ops = 0;
  private readonly referenceHashes = new Map<string, string>();
  /** The submitted value of the reference being written, when it was rewritten. */
  private referenceKey: string | undefined;
  private readonly referenceKinds = new Map<string, number>();
  private readonly referenceRelatives = new Map<string, string>();
  private readonly scratchParent: FNode;
  private readonly scratch: FNode;

  constructor(
    private readonly profile: CompiledProfile,
    private readonly run: OnePassInput,
  ) {
    this.notes = run.categories.has('notes');
    this.targets = run.targets;
    this.patientReference = run.subject?.id === undefined ? undefined : `Patient/${run.subject.id}`;
    this.pseudonymReference = `Patient/${run.ctx.pseudonym}`;
    this.scratchParent = SCRATCH_PARENT;
    this.scratch = SCRATCH;
    this.state = createRunState(profile, this.scratchParent, { keys: run.ctx.keys, dateShiftKeyPrefix: run.ctx.pseudonym });
    if (this.state.params.dateShiftKeyPrefix === '') throw BAIL; // the date shift would read the root's id
  }

  /** Whether the parser's free-text step drops this free-text element (counted here). */
  private dropsFreeText(info: ChildInfo, item: Json): boolean {
    if (this.notes) {
      if (info.type !== 'Attachment') return false;
      const data = single(item, 'data');
      if (data === null || data === undefined) return false;
      const contentType = single(item, 'contentType');
      if (typeof contentType === 'string' && TEXT_CONTENT.test(contentType.trim())) return false;
    }
    this.freeTextDropped++;
    return true;
  }

  private collectIdentifier(item: Json): void {
    const system = single(item, 'system');
    const value = single(item, 'value');
    if (typeof value === 'string') this.identifiers.push({ system: typeof system === 'string' ? system : undefined, value });
  }

  /** Where a Reference goes: dropped (-1), unchanged (PLAIN), rewritten, or to the patient. */
  private referenceKind(item: Json): number {
    const value = single(item, 'reference');
    if (typeof value !== 'string') return PLAIN;
    let kind = this.referenceKinds.get(value);
    if (kind === undefined) {
      // references.ts's rewrite, decided once per distinct reference of the record.
      const entry = this.targets.entryOf(value);
      let relative: string | undefined;
      if (entry >= 0) {
        // A fullUrl of an entry, ids unique: its Type/id is in the map and is kept iff the entry is.
        relative = this.targets.relativeOf(entry);
        kind = !this.keep[entry] ? -1 : relative === this.patientReference ? REFERENCE_PATIENT : REFERENCE_RELATIVE;
      } else if (entry === -1) {
        kind = PLAIN; // not a key, and without '/' not a relative reference either
      } else {
        relative = this.targets.get(value) ?? (parseRelativeReference(value) !== undefined ? value : undefined);
        if (relative === undefined) kind = PLAIN;
        else if (this.targets.map().has(relative) && !this.keptRelatives().has(relative)) kind = -1;
        else if (relative === this.patientReference) kind = REFERENCE_PATIENT;
        else kind = REFERENCE_RELATIVE;
      }
      this.referenceKinds.set(value, kind);
      if (kind === REFERENCE_RELATIVE) this.referenceRelatives.set(value, relative!);
    }
    if (kind === -1) this.referencesDropped++;
    else if (kind === REFERENCE_PATIENT) this.referencesPseudonymised++;
    return kind;
  }

  private keptRelatives(): Set<string> {
    if (this.kept === undefined) {
      this.kept = new Set();
      this.run.submitted.forEach((entry, index) => {
        const id = entry.json?.['id'];
        if (this.keep[index] && typeof id === 'string') this.kept!.add(`${entry.type}/${id}`);
      });
    }
    return this.kept;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading without writing: dropped entries and free text (refs = false), removed patient elements
  // (refs = true: the reference step ran before they were removed, and counted them).

  private scanResource(json: unknown, refs: boolean): void {
    if (!isObject(json) || typeof json['resourceType'] !== 'string' || !isResourceType(json['resourceType'])) throw BAIL;
    this.scan(json, childTable(json['resourceType']), json['resourceType'], true, refs, PLAIN);
  }

  private scan(json: Json, table: ChildTable, typePath: string, isResource: boolean, refs: boolean, kind: number): void {
    for (const key in json) {
      if (key.charCodeAt(0) === 95) throw BAIL;
      if (isResource && key === 'resourceType') continue;
      const info = childOf(table, typePath, key);
      if (info === undefined) {
        this.unknownElements++;
        continue;
      }
      const value = json[key];
      if (value === null || value === undefined) continue;
      if (info.primitive) {
        checkPrimitive(value);
        continue;
      }
      // A patient reference's display and identifier go before the reference step looks inside.
      const childRefs = refs && !(kind === REFERENCE_PATIENT && (key === 'display' || key === 'identifier'));
      if (Array.isArray(value)) {
        for (const item of value) if (item !== null) this.scanItem(info, item, childRefs);
      } else {
        this.scanItem(info, value, childRefs);
      }
    }
  }

  private scanItem(info: ChildInfo, item: unknown, refs: boolean): void {
    if (info.resource) {
      this.scanResource(item, refs);
      return;
    }
    if (!isObject(item)) throw BAIL;
    if (isFreeText(info.type) && this.dropsFreeText(info, item)) refs = false;
    let kind = PLAIN;
    if (refs && info.type === 'Reference') {
      kind = this.referenceKind(item);
      if (kind === -1) {
        refs = false;
        kind = PLAIN;
      }
    }
    this.scan(item, tableOf(info), info.typePath, false, refs, kind);
    if (info.type === 'Identifier') this.collectIdentifier(item);
  }

  // ---------------------------------------------------------------------------------------------
  // Writing.

  /** The method of `rule` on one primitive value; counts what it changed. */
  private applyTo(rule: CompiledRule, info: ChildInfo, parentType: string, value: Primitive): Primitive | null {
    if (rule.method === 'cryptoHash') {
      // crypto-hash.ts: only the id of a literal reference; remembered per run (references recur).
      if (value === '') return value;
      const input = String(value);
      let result: string;
      if (info.name === 'reference' && parentType === 'Reference') {
        // Remembered by the reference as submitted when it was rewritten (a flat string, cheap to
        // look up), else by itself.
        const key = this.referenceKey ?? input;
        result = this.referenceHashes.get(key) ?? '';
        if (result === '') {
          result = transformReferenceId(input, this.state.hash);
          this.referenceHashes.set(key, result);
        }
      } else {
        result = this.state.hash(input);
      }
      this.state.changed[rule.methodIndex]!++;
      this.ops |= Op.CryptoHash;
      return result;
    }
    if (rule.method === 'redact' && !PARTIAL_REDACT.has(info.type) && info.name !== 'postalCode') {
      // redactNode for a value without partial rules: an empty string stays, anything else goes.
      if (value === '') return value;
      this.state.changed[rule.methodIndex]!++;
      this.ops |= Op.Redact;
      return null;
    }
    const node = this.scratch;
    node.name = info.name;
    node.type = info.type;
    node.typePath = info.typePath;
    node.info = info;
    node.value = value;
    this.scratchParent.type = parentType;
    let ops: number;
    try {
      ops = METHOD_FNS[rule.method](node, rule, this.state);
    } catch {
      throw BAIL; // the tree path names the rule and the element
    }
    if (ops !== 0) {
      this.state.changed[rule.methodIndex]!++;
      this.ops |= ops;
    }
    return node.value;
  }

  private noteText(info: ChildInfo, parentType: string, container: Json | Primitive[], key: string | number, value: Primitive): void {
    if (typeof value !== 'string' || value === '') return;
    if (info.type === 'string' || info.type === 'markdown') {
      if (info.name === 'reference' && parentType === 'Reference') return;
      this.slotKinds.push(TEXT);
    } else if (info.type === 'xhtml') {
      this.slotKinds.push(XHTML);
    } else {
      return;
    }
    this.slotContainers.push(container);
    this.slotKeys.push(key);
  }

  /** The state of the child `lookup` found last (before `where`). */
  private found: PlanState | undefined;

  /** Child `key` of an object in `state` (with `edges`, its edges), setting `found`. */
  private lookup(edges: Map<string, PlanEdge> | undefined, state: PlanState | undefined, table: ChildTable, typePath: string, key: string): ChildInfo | undefined {
    if (edges === undefined) {
      this.found = undefined;
      return childOf(table, typePath, key);
    }
    const edge = this.plan!.edge(edges, state!, table, typePath, key);
    this.found = edge.state;
    return edge.info;
  }

  /**
   * The rule for a child whose own decision is `own` under `inherited` (plan.ts's walk: the first rule
   * that selects it or an ancestor), counting `keep` where it starts. undefined: no rule.
   */
  private ruleFor(own: number, inherited: number): CompiledRule | undefined {
    if (own !== -1 && (inherited === -1 || own < inherited)) {
      const rule = this.plan!.rules[own]!.rule;
      if (rule.method === 'keep') this.state.changed[rule.methodIndex]!++;
      return rule;
    }
    return inherited === -1 ? undefined : this.plan!.rules[inherited]!.rule;
  }

  /** A primitive child (`state`: its state, before `where`; undefined outside a plan). Returns whether it was written. */
  private writePrimitive(
    out: Json, key: string, info: ChildInfo, value: unknown, parentType: string, state: PlanState | undefined, inherited: number, replacement: string | undefined,
  ): boolean {
    let own = -1;
    if (state !== undefined) own = (state.wheres.length > 0 ? this.plan!.resolveWith(state, info.name, info.type, NO_CHILDREN) : state).decision;
    if (!Array.isArray(value)) {
      if (!isPrimitive(value)) throw BAIL;
      if (replacement !== undefined) {
        out[key] = replacement; // protected: no rule, no scrubbing
        return true;
      }
      const rule = own === -1 && inherited === -1 ? undefined : this.ruleFor(own, inherited);
      const result = rule === undefined || rule.method === 'keep' ? value : this.applyTo(rule, info, parentType, value);
      if (result === null) return false;
      if (info.repeating) {
        const list = [result];
        out[key] = list;
        this.noteText(info, parentType, list, 0, result);
      } else {
        out[key] = result;
        this.noteText(info, parentType, out, key, result);
      }
      return true;
    }
    if (replacement !== undefined) throw BAIL;
    const list: Primitive[] = [];
    for (const item of value) {
      if (item === null) continue;
      if (!isPrimitive(item)) throw BAIL;
      const rule = own === -1 && inherited === -1 ? undefined : this.ruleFor(own, inherited);
      const result = rule === undefined || rule.method === 'keep' ? item : this.applyTo(rule, info, parentType, item);
      if (result !== null) list.push(result);
    }
    if (list.length === 0) return false;
    if (info.repeating || list.length > 1) {
      out[key] = list;
      for (let i = 0; i < list.length; i++) this.noteText(info, parentType, list, i, list[i]!);
    } else {
      out[key] = list[0]!;
      this.noteText(info, parentType, out, key, list[0]!);
    }
    return true;
  }

  /** A complex child, once or a list (`base`: its state, before `where`). Returns whether it was written. */
  private writeComplex(out: Json, key: string, info: ChildInfo, value: unknown, base: PlanState | undefined, inherited: number, kind: number): boolean {
    if (!Array.isArray(value)) {
      const written = this.writeItem(info, value, base, inherited, kind);
      if (written === undefined) return false;
      out[key] = info.repeating ? [written] : written;
      return true;
    }
    const list: Json[] = [];
    for (const item of value) {
      if (item === null) continue;
      const written = this.writeItem(info, item, base, inherited, kind);
      if (written !== undefined) list.push(written);
    }
    if (list.length === 0) return false;
    out[key] = info.repeating || list.length > 1 ? list : list[0]!;
    return true;
  }

  private writeItem(info: ChildInfo, item: unknown, base: PlanState | undefined, inherited: number, parentKind: number): Json | undefined {
    if (!isObject(item)) throw BAIL;
    const type = info.type;
    let kind = parentKind;
    if (type === 'Reference') {
      kind = this.referenceKind(item);
      if (kind === -1) {
        this.scan(item, tableOf(info), info.typePath, false, false, PLAIN);
        return undefined;
      }
    } else if (isFreeText(type) && this.dropsFreeText(info, item)) {
      this.scan(item, tableOf(info), info.typePath, false, false, PLAIN);
      return undefined;
    }
    let own = -1;
    let state = base;
    if (state !== undefined) {
      if (state.wheres.length > 0) state = this.plan!.resolveWith(state, info.name, type, jsonHolds(item, info.typePath));
      own = state.decision;
    }
    let decided = inherited;
    if (own !== -1 && (inherited === -1 || own < inherited)) decided = own;
    if (decided !== -1) {
      const rule = this.ruleFor(own, inherited)!;
      if (rule.method === 'generalize') throw BAIL; // the tree path's error names it
    }
    let slot = -1;
    if (type === 'Attachment') {
      slot = this.slotKinds.length;
      this.slotKinds.push(ATTACHMENT);
      this.slotContainers.push([]);
      this.slotKeys.push((item['size'] != null ? 1 : 0) | (item['hash'] != null ? 2 : 0));
    }
    const out: Json = {};
    const written = this.writeChildren(out, item, tableOf(info), info.typePath, type, state, decided, kind);
    if (type === 'Identifier') this.collectIdentifier(item);
    if (!written) return undefined;
    if (slot !== -1) this.slotContainers[slot] = out;
    return out;
  }

  /**
   * The children of an object, in the input's order. `kind` says what the gateway's steps do here;
   * `replacements` are values the gateway sets (protected from the rules and the scrubber).
   */
  private writeChildren(
    out: Json, json: Json, table: ChildTable, typePath: string, type: string, state: PlanState | undefined, inherited: number, kind: number,
  ): boolean {
    const plan = this.plan;
    const edges = state === undefined ? undefined : plan!.edgesOf(state, table);
    let written = false;
    for (const key in json) {
      if (key.charCodeAt(0) === 95) throw BAIL;
      let info: ChildInfo | undefined;
      let childState: PlanState | undefined;
      if (edges === undefined) {
        info = childOf(table, typePath, key);
      } else {
        const edge = edges.get(key) ?? plan!.edge(edges, state!, table, typePath, key);
        info = edge.info;
        childState = edge.state;
      }
      if (info === undefined) {
        this.unknownElements++;
        continue;
      }
      const value = json[key];
      if (value === null || value === undefined) continue;
      if (kind !== PLAIN) {
        if (kind === PATIENT_ADDRESS && ADDRESS_BELOW_CITY.has(key)) {
          this.patientRemoved += checkPrimitive(value);
          continue;
        }
        if (kind === REFERENCE_PATIENT && (key === 'display' || key === 'identifier')) {
          if (info.primitive) checkPrimitive(value);
          else if (Array.isArray(value)) for (const item of value) if (item !== null) this.scanItem(info, item, false);
          else this.scanItem(info, value, false);
          continue;
        }
        if (key === 'reference' && info.primitive && kind !== PATIENT_ADDRESS) {
          if (kind === REFERENCE_RELATIVE) {
            this.referenceKey = value as string;
            written = this.writePrimitive(out, key, info, this.referenceRelatives.get(value as string)!, type, childState, inherited, undefined) || written;
            this.referenceKey = undefined;
          } else {
            written = this.writePrimitive(out, key, info, value, type, childState, inherited, this.pseudonymReference) || written;
          }
          continue;
        }
      }
      if (info.primitive) written = this.writePrimitive(out, key, info, value, type, childState, inherited, undefined) || written;
      else if (info.resource) throw BAIL; // resources are written by writeResource
      else written = this.writeComplex(out, key, info, value, childState, inherited, PLAIN) || written;
    }
    return written;
  }


  /**
   * A resource (an entry's, or contained): its plan from its own type, the gateway's steps for the
   * subject Patient and the commercial Coverage, `meta.security` for what was done (not for contained
   * resources: theirs go to the container). Returns the resource and its ops.
   */
  writeResource(json: Json, name: string, role: 'entry' | 'contained' | 'subject' | 'commercial'): Json {
    const type = json['resourceType'];
    if (typeof type !== 'string' || !isResourceType(type)) throw BAIL;
    const plan = this.profile.planFor(type);
    if (plan === undefined && this.profile.rulesFor(type).length > 0) throw BAIL;
    const outerPlan = this.plan;
    const outerOps = this.ops;
    this.plan = plan;
    this.ops = 0;
    let state = plan?.start;
    let inherited = -1;
    if (plan !== undefined && state !== undefined) {
      if (state.wheres.length > 0) state = plan.resolveWith(state, name, type, jsonHolds(json, type));
      inherited = state.decision;
      if (inherited !== -1) {
        const rule = plan.rules[inherited]!.rule;
        if (rule.method === 'keep') this.state.changed[rule.methodIndex]!++;
        if (rule.method === 'generalize') throw BAIL;
      }
    }
    const out: Json = { resourceType: type };
    const firstSlot = this.slotKinds.length;
    if (role === 'subject' && (json['id'] === null || json['id'] === undefined)) out['id'] = this.run.ctx.pseudonym;
    let policyWritten = role !== 'commercial';
    const table = childTable(type);
    const edges = state === undefined ? undefined : plan!.edgesOf(state, table);
    // meta.security goes before the first element written that is not id or meta (node.ts's toJson).
    // Its place is taken at the first such key met, written or not, and checked as keys are written.
    const labels = new LabelPlace(out, role !== 'contained');
    for (const key in json) {
      if (key.charCodeAt(0) === 95) throw BAIL;
      if (key === 'resourceType') continue;
      const info = this.lookup(edges, state, table, type, key);
      if (info === undefined) {
        this.unknownElements++;
        continue;
      }
      const value = json[key];
      if (value === null || value === undefined) continue;
      const childState = this.found;
      labels.before(key);
      if (info.resource) {
        if (key !== 'contained' || role === 'contained') throw BAIL;
        this.writeContained(out, value);
      } else if (role === 'subject' && key === 'id') {
        if (!isPrimitive(value)) throw BAIL;
        out['id'] = this.run.ctx.pseudonym;
      } else if (role === 'subject' && DIRECT_IDENTIFIERS.has(key)) {
        this.removePatientElement(info, value);
      } else if (role === 'subject' && key === 'address') {
        this.writeComplex(out, key, info, value, childState, inherited, PATIENT_ADDRESS);
      } else if (info.primitive) {
        this.writePrimitive(out, key, info, value, type, childState, inherited, undefined);
      } else if (role === 'commercial' && key === 'identifier' && hasItems(value)) {
        this.writeComplex(out, key, info, value, childState, inherited, PLAIN);
        const list = (out['identifier'] as Json[] | undefined) ?? [];
        list.push({ system: POLICY_NUMBER_SYSTEM, value: this.run.ctx.policyNumber });
        out['identifier'] = list;
        policyWritten = true;
      } else {
        this.writeComplex(out, key, info, value, childState, inherited, PLAIN);
      }
      labels.after(key);
    }
    if (!policyWritten) {
      labels.before('identifier');
      out['identifier'] = [{ system: POLICY_NUMBER_SYSTEM, value: this.run.ctx.policyNumber }];
      labels.after('identifier');
    }
    const ops = this.ops;
    this.plan = outerPlan;
    this.ops = role === 'contained' ? outerOps | ops : outerOps;
    this.lastOps = ops;
    if (role === 'contained') return out;
    return labels.finish(ops) ? out : this.labelled(labels.withoutPlace(), ops, firstSlot, out);
  }

  /** `withLabels`, with the scrub slots of the resource's own values moved to the new object. */
  private labelled(out: Json, ops: number, firstSlot: number, written = out): Json {
    const result = ops === 0 ? out : withLabels(out, ops);
    const containers = this.slotContainers;
    for (let i = firstSlot; i < containers.length; i++) if (containers[i] === written) containers[i] = result;
    return result;
  }

  /** The ops of the resource `writeResource` wrote last (with its contained resources). */
  lastOps = 0;

  private writeContained(out: Json, value: unknown): void {
    const items = Array.isArray(value) ? value : [value];
    const list: Json[] = [];
    for (const item of items) {
      if (item === null) continue;
      if (!isObject(item) || typeof item['resourceType'] !== 'string') throw BAIL;
      const type = item['resourceType'];
      if (type === 'Patient' || !isConsented(type, this.run.categories)) {
        add(this.resourcesDropped, type);
        this.scanResource(item, false);
        continue;
      }
      if (item['contained'] !== undefined) throw BAIL;
      list.push(this.writeResource(item, 'contained', 'contained'));
    }
    if (list.length > 0) out['contained'] = list;
  }

  /** An element of the patient that pseudonymisation removes: read for the counts only. */
  private removePatientElement(info: ChildInfo, value: unknown): void {
    if (info.primitive) {
      this.patientRemoved += checkPrimitive(value);
      return;
    }
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (item === null) continue;
      if (!isObject(item)) throw BAIL;
      if (isFreeText(info.type) && this.dropsFreeText(info, item)) {
        this.scan(item, tableOf(info), info.typePath, false, false, PLAIN);
        continue;
      }
      this.patientRemoved++;
      let kind = PLAIN;
      let refs = true;
      if (info.type === 'Reference') {
        kind = this.referenceKind(item);
        if (kind === -1) {
          refs = false;
          kind = PLAIN;
        }
      }
      this.scan(item, tableOf(info), info.typePath, false, refs, kind);
      if (info.type === 'Identifier') this.collectIdentifier(item);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The whole Bundle. */
  bundle(): { bundle: Json; resourcesIn: number; resourcesOut: number; policyAdded: boolean } {
    const { input, submitted, subject, categories } = this.run;
    // Consent pruning is decided from the entries as submitted (deidentify.ts worked them out).
    const keep = this.keep;
    let commercial: SubmittedEntry | undefined;
    for (const entry of submitted) {
      const resource = entry.json;
      const kept = resource !== undefined && (entry === subject || (entry.type !== 'Patient' && isConsented(entry.type, categories)));
      keep.push(kept);
      if (!kept) add(this.resourcesDropped, resource === undefined ? '(no resource)' : entry.type);
      else if (commercial === undefined && entry.type === 'Coverage' && !isSocialInsurance(resource)) commercial = entry;
    }
    const plan = this.profile.planFor('Bundle');
    if (plan === undefined && this.profile.rulesFor('Bundle').length > 0) throw BAIL;
    this.plan = plan;
    this.ops = 0;
    let state = plan?.start;
    let inherited = -1;
    if (plan !== undefined && state !== undefined) {
      if (state.wheres.length > 0) state = plan.resolveWith(state, '', 'Bundle', jsonHolds(input, 'Bundle'));
      inherited = state.decision;
      if (inherited !== -1) {
        const rule = plan.rules[inherited]!.rule;
        if (rule.method === 'keep') this.state.changed[rule.methodIndex]!++;
        if (rule.method === 'generalize') throw BAIL;
      }
    }
    const out: Json = { resourceType: 'Bundle' };
    let resourcesIn = 0;
    let resourcesOut = 0;
    let addedWritten = false;
    let resourceOps = 0;
    const entryInfo = childInfo('Bundle', 'entry')!;
    const added = commercial === undefined ? { resource: policyCoverageJson(this.run.ctx.policyNumber, this.run.ctx.pseudonym) } : undefined;
    const bundleTable = childTable('Bundle');
    const entryTable = tableOf(entryInfo);
    for (const key in input) {
      if (key.charCodeAt(0) === 95) throw BAIL;
      if (key === 'resourceType') continue;
      const info = childOf(bundleTable, 'Bundle', key);
      if (info === undefined) {
        this.unknownElements++;
        continue;
      }
      const value = input[key];
      if (value === null || value === undefined) continue;
      const childState = state === undefined || info.resource ? undefined : plan!.child(state, info);
      if (key !== 'entry') {
        if (info.primitive) this.writePrimitive(out, key, info, value, 'Bundle', childState, inherited, undefined);
        else if (info.resource) throw BAIL;
        else this.writeComplex(out, key, info, value, childState, inherited, PLAIN);
        continue;
      }
      const entries: Json[] = [];
      const entryState = childState;
      let position = 0;
      for (const item of value as unknown[]) {
        if (item === null || item === undefined) continue;
        if (!isObject(item) || Array.isArray(item['resource'])) throw BAIL;
        resourcesIn++;
        const entry = submitted[position];
        if (entry === undefined) throw BAIL;
        if (!keep[position++]) {
          this.scan(item, tableOf(entryInfo), entryInfo.typePath, false, false, PLAIN);
          continue;
        }
        let own = -1;
        let itemState = entryState;
        if (itemState !== undefined) {
          if (itemState.wheres.length > 0) itemState = plan!.resolveWith(itemState, 'entry', entryInfo.type, jsonHolds(item, entryInfo.typePath));
          own = itemState.decision;
        }
        let decided = inherited;
        if (own !== -1 && (inherited === -1 || own < inherited)) decided = own;
        if (decided !== -1 && this.ruleFor(own, inherited)!.method === 'generalize') throw BAIL;
        const written: Json = {};
        for (const entryKey in item) {
          if (entryKey.charCodeAt(0) === 95) throw BAIL;
          const childInfoOf = childOf(entryTable, entryInfo.typePath, entryKey);
          const entryChildState = itemState === undefined || childInfoOf === undefined || childInfoOf.resource ? undefined : plan!.child(itemState, childInfoOf);
          if (childInfoOf === undefined) {
            this.unknownElements++;
            continue;
          }
          const childValue = item[entryKey];
          if (childValue === null || childValue === undefined) continue;
          if (entryKey === 'resource') {
            if (!isObject(childValue)) throw BAIL;
            const role = entry === subject ? 'subject' : entry === commercial ? 'commercial' : 'entry';
            const bundlePlan = this.plan;
            const bundleOps = this.ops;
            written['resource'] = this.writeResource(childValue, 'resource', role);
            resourceOps |= this.lastOps;
            this.plan = bundlePlan;
            this.ops = bundleOps;
            resourcesOut++;
          } else if (childInfoOf.primitive) {
            this.writePrimitive(written, entryKey, childInfoOf, childValue, 'BackboneElement', entryChildState, decided, undefined);
          } else if (childInfoOf.resource) {
            throw BAIL;
          } else {
            this.writeComplex(written, entryKey, childInfoOf, childValue, entryChildState, decided, PLAIN);
          }
        }
        entries.push(written);
      }
      // The added Coverage goes after the last entry kept, or at the end if none is.
      if (added !== undefined && entries.length > 0) {
        entries.push(added);
        resourcesOut++;
        addedWritten = true;
      }
      if (entries.length > 0) out['entry'] = entries;
    }
    if (!addedWritten && added !== undefined) {
      out['entry'] = [added];
      resourcesOut++;
    }
    const ops = this.ops | resourceOps;
    return { bundle: this.labelled(out, ops, 0), resourcesIn, resourcesOut, policyAdded: added !== undefined };
  }
}

const NO_CHILDREN = (): boolean => false;

function hasItems(value: unknown): boolean {
  if (!Array.isArray(value)) return value !== null && value !== undefined;
  return value.some((item) => item !== null && item !== undefined);
}

/** `where(key = 'literal')` on an object given as JSON: exactly one child named key, equal to literal. */
function jsonHolds(json: Json, typePath: string): (key: string, literal: string) => boolean {
  return (key, literal) => {
    let count = 0;
    let equal = false;
    for (const k in json) {
      if (k.charCodeAt(0) === 95) throw BAIL;
      const info = childInfo(typePath, k);
      if (info === undefined || info.name !== key) continue;
      if (!info.primitive) throw BAIL;
      const value = json[k];
      if (Array.isArray(value)) {
        for (const item of value) {
          if (item === null) continue;
          count++;
          equal = item === literal;
        }
      } else if (value !== null && value !== undefined) {
        count++;
        equal = value === literal;
      }
    }
    return count === 1 && equal;
  };
}

/** The Coverage's type codes include 医保 (policy.ts's test, on the JSON). */
function isSocialInsurance(coverage: Json): boolean {
  const type = single(coverage, 'type');
  if (type === null || type === undefined) return false;
  if (!isObject(type)) throw BAIL;
  const codings = type['coding'];
  if (codings === null || codings === undefined) return false;
  const list = Array.isArray(codings) ? codings : [codings];
  return list.some((coding) => {
    if (coding === null) return false;
    if (!isObject(coding)) throw BAIL;
    return single(coding, 'code') === SOCIAL_INSURANCE_CODE;
  });
}

/**
 * Where a resource's `meta.security` goes, decided while the resource is written: toJson puts the
 * labels before the first element written that is not `id` or `meta`, or merges them into a `meta`
 * written before that. The place is taken (an empty `meta`) at the first other key met; if that key
 * then writes nothing and an `id` is written after it, the place was wrong and the resource is rebuilt
 * (`withLabels`), as it is when no labels are due after all.
 */
class LabelPlace {
  private place: Json | undefined;
  private fresh = false; // the place is taken and nothing has been written after it yet
  private wrong = false;

  constructor(
    private readonly out: Json,
    private readonly enabled: boolean,
  ) {}

  before(key: string): void {
    if (!this.enabled || this.place !== undefined || key === 'id' || key === 'meta') return;
    if (this.out['meta'] !== undefined) return; // a meta written first: the labels merge into it
    this.place = {};
    this.out['meta'] = this.place;
    this.fresh = true;
  }

  after(key: string): void {
    if (this.place === undefined || this.out[key] === undefined) return;
    if (key === 'meta') {
      if (this.out['meta'] === this.place) return; // meta wrote nothing
      if (!this.fresh) throw BAIL; // toJson writes meta twice here (and fails): the tree path answers
      this.place = undefined; // the written meta stands where the place was: labels merge into it
      return;
    }
    if (this.fresh && key === 'id') this.wrong = true;
    this.fresh = false;
  }

  /** Puts the labels in; false if the resource must be rebuilt (`withoutPlace`, then `withLabels`). */
  finish(ops: number): boolean {
    if (!this.enabled) return true;
    if (this.wrong || (ops === 0 && this.place !== undefined)) return false;
    if (ops === 0) return true;
    if (this.place !== undefined) {
      this.place['security'] = securityLabelsJson(ops, []);
      return true;
    }
    const meta = this.out['meta'];
    if (meta === undefined) {
      this.out['meta'] = { security: securityLabelsJson(ops, []) };
      return true;
    }
    const written = meta as Json;
    const existing = Array.isArray(written['security']) ? (written['security'] as Json[]) : [];
    written['security'] = securityLabelsJson(ops, existing);
    return true;
  }

  /** The resource without the place taken. */
  withoutPlace(): Json {
    if (this.place === undefined || this.out['meta'] !== this.place) return this.out;
    const copy: Json = {};
    for (const key in this.out) if (key !== 'meta') copy[key] = this.out[key];
    return copy;
  }
}

/** The resource with `meta.security` labels for `ops`, placed as node.ts's toJson places them. */
function withLabels(out: Json, ops: number): Json {
  const result: Json = {};
  let pending = true;
  for (const key in out) {
    if (pending && key !== 'resourceType' && key !== 'id' && key !== 'meta') {
      result['meta'] = { security: securityLabelsJson(ops, []) };
      pending = false;
    }
    if (key === 'meta' && result['meta'] !== undefined) throw BAIL; // the tree path fails here (a name written twice)
    result[key] = out[key];
    if (pending && key === 'meta') {
      const meta = out['meta'] as Json;
      const existing = Array.isArray(meta['security']) ? (meta['security'] as Json[]) : [];
      meta['security'] = securityLabelsJson(ops, existing);
      pending = false;
    }
  }
  if (pending) result['meta'] = { security: securityLabelsJson(ops, []) };
  return result;
}

/**
 * De-identifies in one pass. Throws `Bail` (before returning anything) where the tree path must run.
 */
export function deidentifyOnePass(run: OnePassInput): { bundle: Json; report: DeidReport } {
  const { profile, ctx } = run;
  if (!profileUsable(profile)) throw BAIL;
  const pass = new OnePass(profile, run);
  const written = pass.bundle();
  const detectOptions = detectOptionsFor(pass.identifiers, run.subject?.json, ctx.hospitalIdentifierSystems ?? []);
  const scrubber = new Scrubber(detectOptions, new Set());
  const { slotKinds, slotContainers, slotKeys } = pass;
  for (let i = 0; i < slotKinds.length; i++) {
    const kind = slotKinds[i]!;
    const container = slotContainers[i]!;
    const key = slotKeys[i]!;
    if (kind === ATTACHMENT) {
      if (Array.isArray(container)) continue; // written empty: nothing to scrub
      if (!scrubber.attachmentJson(container, ((key as number) & 1) !== 0, ((key as number) & 2) !== 0)) throw BAIL;
      continue;
    }
    const value = (container as Record<string | number, unknown>)[key] as string;
    const result = kind === TEXT ? scrubber.text(value) : scrubber.xhtml(value);
    if (result !== value) (container as Record<string | number, unknown>)[key] = result;
  }
  const methods: Record<string, number> = {};
  add(methods, 'free-text-dropped', pass.freeTextDropped);
  add(methods, 'references-dropped', pass.referencesDropped);
  const hasPatient = run.subject !== undefined && run.subject.json !== undefined;
  if (hasPatient) add(methods, 'patient-identifiers-removed', pass.patientRemoved);
  add(methods, 'pseudonym', pass.referencesPseudonymised + (hasPatient ? 1 : 0));
  add(methods, 'policy-number');
  if (written.policyAdded) add(methods, 'coverage-added');
  add(methods, 'unknown-elements-dropped', pass.unknownElements);
  const counts = methodCounts(pass.state);
  for (const method in counts) add(methods, method, counts[method]);
  return {
    bundle: written.bundle,
    report: {
      profile: profile.name,
      resourcesIn: written.resourcesIn,
      resourcesOut: written.resourcesOut,
      resourcesDropped: pass.resourcesDropped,
      methods,
      detectors: scrubber.counts,
    },
  };
}
