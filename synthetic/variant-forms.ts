/**
 * The patient's own values written the other ways Chinese records write them — full-width digits and
 * letters, spaces or dashes inside a number, ideographic or ordinary spaces between the characters of a
 * name, a phone's local number split with spaces — planted in free text (notes, narratives, displays),
 * for the leak tests. Seeded like the rest of the generator.
 */
import type { RecordContext } from './fhir/context.js';
import type { SeededRandom } from './random.js';
import type { FhirResource } from './types.js';

const FULL_WIDTH_OFFSET = 0xfee0; // '０' - '0', 'Ａ' - 'A'

/** Every ASCII digit and letter as its full-width form. */
export function fullWidth(value: string): string {
  return value.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + FULL_WIDTH_OFFSET));
}

/** A number in groups: `sizes` long each, the rest in the last, joined by `separator`. */
function grouped(value: string, sizes: readonly number[], separator: string): string {
  const groups: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= value.length) break;
    groups.push(value.slice(at, at + size));
    at += size;
  }
  if (at < value.length) groups.push(value.slice(at));
  return groups.join(separator);
}

const SEPARATORS = [' ', '-', '\u3000', ' - '] as const;

/** A resident ID, phone or record number in one of its written forms (never the plain one). */
export function numberVariant(rng: SeededRandom, value: string, sizes: readonly number[]): string {
  const separator = rng.pick(SEPARATORS);
  switch (rng.int(0, 3)) {
    case 0:
      return fullWidth(value);
    case 1:
      return grouped(value, sizes, separator);
    case 2:
      return fullWidth(grouped(value, sizes, separator));
    default:
      return grouped(value, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], ' ');
  }
}

/** A Chinese name with a space (ordinary or ideographic) between its characters. */
export function nameVariant(rng: SeededRandom, name: string): string {
  return [...name].join(rng.pick([' ', '\u3000', '  ']));
}

export interface VariantTargets {
  conditions: FhirResource[];
  observations: FhirResource[];
}

/** Plants variant forms of the patient's and a relative's values in free text; returns what it planted. */
export function plantVariantForms(ctx: RecordContext, targets: VariantTargets): string[] {
  const { rng, patient, visitNumber } = ctx;
  const relative = patient.relatives[0];
  const name = nameVariant(rng, patient.name);
  const id = numberVariant(rng, patient.nationalId, [6, 8]);
  const phone = numberVariant(rng, patient.phone, [3, 4]);
  const localSplit = `${patient.phone.slice(0, 3)}-${patient.phone.slice(3, 7)} ${patient.phone.slice(7)}`;
  const mrn = numberVariant(rng, patient.mrn, [4]);
  const visit = fullWidth(visitNumber);
  const planted = [name, id, phone, localSplit, mrn, visit];
  const note = (resource: FhirResource | undefined, text: string): void => {
    if (resource !== undefined) resource['note'] = [...((resource['note'] as unknown[] | undefined) ?? []), { text }];
  };
  note(targets.conditions[0], `患者${name}，身份证${id}，联系电话${phone}（备用${localSplit}），病案号${mrn}，就诊号${visit}。`);
  const observation = targets.observations[0];
  note(observation, `报告已交${name}本人。`);
  if (relative !== undefined) {
    const relativeName = nameVariant(rng, relative.name);
    const relativePhone = numberVariant(rng, relative.phone, [3, 4]);
    planted.push(relativeName, relativePhone);
    note(observation, `家属${relativeName}电话${relativePhone}。`);
  }
  return planted;
}
