/**
 * References inside a submitted Bundle usually point at entries by `fullUrl` (`urn:uuid:…`). The rules
 * hash ids and references as `Type/id`, so every reference that resolves to an entry is rewritten to
 * that relative form; references to resources that were dropped (outside the consent) are removed,
 * since they would only disclose that something was left out; references to the patient become
 * `Patient/<pseudonym>`, without display or identifier, protected from the profile's rules.
 */
import type { FNode } from './engine/node.js';
import { parseRelativeReference } from './engine/reference.js';
import { protect } from './tree.js';

export interface EntryKey {
  fullUrl: string | undefined;
  type: string;
  id: string | undefined;
}

/** `Type/id` for each fullUrl (and each `Type/id` itself) of the original entries. */
export function targetsOf(keys: readonly EntryKey[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const key of keys) {
    if (key.id === undefined) continue;
    const relative = `${key.type}/${key.id}`;
    targets.set(relative, relative);
    if (key.fullUrl !== undefined) targets.set(key.fullUrl, relative);
  }
  return targets;
}

/**
 * `targetsOf` for lookups, built lazily. A key without '/' (a fullUrl such as `urn:uuid:…`) can only
 * be a fullUrl key (every `Type/id` key has a '/'), so it is found through a map of fullUrls to entries
 * without building the `Type/id` strings as keys; anything else builds the whole map. `entryOf` is
 * answered only while ids are unique (then an entry's `Type/id` is its own).
 */
export class Targets {
  private full: Map<string, string> | undefined;
  private readonly byUrl = new Map<string, number>();
  /** Two entries share an id: `entryOf` does not answer. */
  readonly duplicateIds: boolean;

  constructor(private readonly keys: readonly EntryKey[]) {
    const ids = new Set<string>();
    let duplicate = false;
    keys.forEach((key, index) => {
      if (key.id === undefined) return;
      if (ids.has(key.id)) duplicate = true;
      ids.add(key.id);
      if (key.fullUrl !== undefined) this.byUrl.set(key.fullUrl, index);
    });
    this.duplicateIds = duplicate;
  }

  /** The whole map, as `targetsOf` gives it. */
  map(): Map<string, string> {
    return (this.full ??= targetsOf(this.keys));
  }

  /** `targetsOf(keys).get(key)`. */
  get(key: string): string | undefined {
    if (key.indexOf('/') !== -1) return this.map().get(key);
    const index = this.byUrl.get(key);
    return index === undefined ? undefined : this.relativeOf(index);
  }

  /** For a key without '/' while ids are unique: the entry it points at (-1: none); -2: ask `get`. */
  entryOf(key: string): number {
    if (this.duplicateIds || key.indexOf('/') !== -1) return -2;
    return this.byUrl.get(key) ?? -1;
  }

  /** `Type/id` of an entry that has an id. */
  relativeOf(index: number): string {
    const key = this.keys[index]!;
    return `${key.type}/${key.id}`;
  }
}

export interface ReferencePlan {
  targets: ReadonlyMap<string, string>;
  /** `Type/id` of the entries that remain. */
  kept: ReadonlySet<string>;
  /** `Patient/<original id>` of the subject, and `Patient/<pseudonym>`. */
  patient: string | undefined;
  patientReplacement: string;
}

export interface ReferenceOutcome {
  dropped: number;
  pseudonymised: number;
  /** The rewritten patient references: the scrubber leaves them alone. */
  protectedNodes: FNode[];
}

function rewrite(reference: FNode, plan: ReferencePlan, outcome: ReferenceOutcome): boolean {
  let target: FNode | undefined;
  for (const child of reference.children) if (child.name === 'reference') target = child;
  if (target === undefined || typeof target.value !== 'string') return true;
  const value = target.value;
  const relative = plan.targets.get(value) ?? (parseRelativeReference(value) !== undefined ? value : undefined);
  if (relative === undefined) return true;
  if (plan.targets.has(relative) && !plan.kept.has(relative)) {
    outcome.dropped++;
    return false;
  }
  if (relative === plan.patient) {
    target.value = plan.patientReplacement;
    reference.children = reference.children.filter((c) => c.name !== 'display' && c.name !== 'identifier');
    protect(target);
    outcome.protectedNodes.push(target);
    outcome.pseudonymised++;
  } else {
    target.value = relative;
  }
  return true;
}

function visit(node: FNode, plan: ReferencePlan, outcome: ReferenceOutcome): void {
  let removed = false;
  for (const child of node.children) {
    if (child.type === 'Reference' && !rewrite(child, plan, outcome)) {
      child.parent = null; // marked for removal below
      removed = true;
      continue;
    }
    if (child.children.length > 0) visit(child, plan, outcome);
  }
  if (removed) node.children = node.children.filter((c) => c.parent !== null);
}

/** One pass over the whole Bundle (nested resources included). */
export function rewriteReferences(root: FNode, plan: ReferencePlan): ReferenceOutcome {
  const outcome: ReferenceOutcome = { dropped: 0, pseudonymised: 0, protectedNodes: [] };
  visit(root, plan, outcome);
  return outcome;
}
