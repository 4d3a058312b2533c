/**
 * The FHIR R4 structure the engine needs, read once from the model data that ships with the `fhirpath`
 * package: for each element, its name, instance type, whether it repeats, and whether it is a choice
 * (`value[x]`). Lookups are precomputed into nested maps so the per-node cost is two `Map.get`s.
 */
import r4 from 'fhirpath/fhir-context/r4';

export interface ChildInfo {
  /** The element name as FHIRPath sees it: `value` for `valueQuantity`. */
  readonly name: string;
  /** The JSON property (`valueQuantity`) and its extension property (`_valueQuantity`). */
  readonly jsonKey: string;
  readonly extKey: string;
  /** The FHIR instance type: `HumanName`, `date`, `BackboneElement`, or `Resource` for a nested resource. */
  readonly type: string;
  /** Where this element's own children are described (a type name, or a path for backbone elements). */
  readonly typePath: string;
  readonly repeating: boolean;
  readonly choice: boolean;
  readonly primitive: boolean;
  readonly resource: boolean;
  /** This element's own children by JSON key, once someone asked (`childTable`); saves a lookup per object. */
  table: ChildTable | undefined;
}

/** The children of one type path by JSON key; `null` = R4 has no such element (cached too). */
export type ChildTable = Map<string, ChildInfo | null>;

type TypeEntry = string | { code: string };

const path2Type = r4.path2Type as unknown as Record<string, TypeEntry>;
const choiceTypePaths = r4.choiceTypePaths as unknown as Record<string, string[]>;
const pathsDefinedElsewhere = r4.pathsDefinedElsewhere as unknown as Record<string, string>;
const type2Parent = r4.type2Parent as unknown as Record<string, string>;
const repeating = r4.path2Repeating as unknown as Record<string, boolean>;

export const PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
]);

const SYSTEM_TYPES: Record<string, string> = {
  'System.String': 'string', 'System.Boolean': 'boolean', 'System.Date': 'date', 'System.DateTime': 'dateTime',
  'System.Decimal': 'decimal', 'System.Integer': 'integer', 'System.Time': 'time',
};

function isResourceTypeName(type: string): boolean {
  let current: string | undefined = type;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    if (current === 'Resource') return true;
    current = type2Parent[current];
  }
  return false;
}

/** Every concrete resource type of R4 (`Patient`, `Bundle`, …) plus the abstract `Resource`/`DomainResource`. */
export const RESOURCE_TYPES: ReadonlySet<string> = new Set(Object.keys(type2Parent).filter(isResourceTypeName));

/** `Base64Binary` (a choice suffix) → `base64Binary`; complex types keep their capital. */
function typeFromSuffix(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return PRIMITIVE_TYPES.has(lower) ? lower : suffix;
}

function resolveType(path: string, name: string, entry: TypeEntry | undefined, parentIsResource: boolean): string | undefined {
  if (entry === undefined) return undefined;
  const code = typeof entry === 'string' ? entry : entry.code;
  const system = SYSTEM_TYPES[code];
  if (system === undefined) return code;
  // FHIRPath types `id`/`url` as System.String; the anonymizer (and FHIR) see `id` on a resource and `uri` on Extension.url.
  if (name === 'id' && parentIsResource) return 'id';
  if (name === 'url' && path.endsWith('xtension.url')) return 'uri';
  return system;
}

function choiceInfo(parentPath: string, key: string): ChildInfo | undefined {
  // `deceasedBoolean` is the element `deceased` of type boolean.
  for (let cut = key.length - 1; cut > 0; cut--) {
    const code = key.charCodeAt(cut);
    if (code < 65 || code > 90) continue;
    const base = key.slice(0, cut);
    const basePath = pathsDefinedElsewhere[`${parentPath}.${base}`] ?? `${parentPath}.${base}`;
    const suffix = key.slice(cut);
    if (choiceTypePaths[basePath]?.includes(suffix)) {
      const type = typeFromSuffix(suffix);
      return {
        name: base, jsonKey: key, extKey: `_${key}`, type, typePath: type, repeating: false, choice: true,
        primitive: PRIMITIVE_TYPES.has(type), resource: false, table: undefined,
      };
    }
  }
  return undefined;
}

function makeInfo(parentPath: string, key: string, parentIsResource: boolean): ChildInfo | undefined {
  const choice = choiceInfo(parentPath, key);
  if (choice !== undefined) return choice;
  const rawPath = `${parentPath}.${key}`;
  const path = pathsDefinedElsewhere[rawPath] ?? rawPath;
  const type = resolveType(path, key, path2Type[path], parentIsResource);
  if (type === undefined) return undefined;
  const backbone = type === 'BackboneElement' || type === 'Element';
  return {
    name: key,
    jsonKey: key,
    extKey: `_${key}`,
    type: backbone ? 'BackboneElement' : type,
    typePath: backbone ? path : type,
    repeating: repeating[rawPath] === true || repeating[path] === true,
    choice: false,
    primitive: PRIMITIVE_TYPES.has(type),
    resource: type === 'Resource',
    table: undefined,
  };
}

const cache = new Map<string, ChildTable>();

/** The (lazily filled) table of the children of `typePath`: look keys up with `childOf`. */
export function childTable(typePath: string): ChildTable {
  let byKey = cache.get(typePath);
  if (byKey === undefined) {
    byKey = new Map();
    cache.set(typePath, byKey);
  }
  return byKey;
}

/** `childInfo(typePath, key)` with the table of `typePath` at hand. */
export function childOf(table: ChildTable, typePath: string, key: string): ChildInfo | undefined {
  const known = table.get(key);
  if (known !== undefined) return known ?? undefined;
  return childInfo(typePath, key);
}

/** The table of the children of the element `info` describes. */
export function tableOf(info: ChildInfo): ChildTable {
  return (info.table ??= childTable(info.typePath));
}

/**
 * The element `key` (a JSON property name, without a leading `_`) of an element described at `typePath`,
 * or undefined if R4 has no such element. Inherited elements (`extension`, `id`, `meta`) are found by
 * walking up the type hierarchy.
 */
export function childInfo(typePath: string, key: string): ChildInfo | undefined {
  const byKey = childTable(typePath);
  const known = byKey.get(key);
  if (known !== undefined) return known ?? undefined;
  const parentIsResource = RESOURCE_TYPES.has(typePath);
  let info: ChildInfo | undefined;
  let current: string | undefined = typePath;
  for (let depth = 0; info === undefined && current !== undefined && depth < 8; depth++) {
    info = makeInfo(current, key, parentIsResource);
    current = type2Parent[current] ?? (current.includes('.') ? 'BackboneElement' : undefined);
  }
  byKey.set(key, info ?? null);
  return info;
}

/** Element names that hold a resource (`contained`, `resource`, `outcome`…): steps through them leave the resource. */
export const RESOURCE_ELEMENT_NAMES: ReadonlySet<string> = new Set(
  Object.entries(path2Type)
    .filter(([, entry]) => (typeof entry === 'string' ? entry : entry.code) === 'Resource')
    .map(([path]) => path.slice(path.lastIndexOf('.') + 1)),
);

export function isResourceType(type: string): boolean {
  return RESOURCE_TYPES.has(type) && type !== 'Resource' && type !== 'DomainResource';
}

/** Quantity-like types whose `value` the perturb method changes. */
export const QUANTITY_TYPES: ReadonlySet<string> = new Set([
  'Age', 'Count', 'Duration', 'Distance', 'Money', 'MoneyQuantity', 'Quantity', 'SimpleQuantity',
]);

/** The JSON name of a choice element's type suffix: `dateTime` → `DateTime`. */
export function choiceSuffix(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1);
}
