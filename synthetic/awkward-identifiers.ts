/**
 * Plants identifiers where de-identification most often misses them: an extension's valueString, notes
 * on an Observation, a Condition and the Invoice, reference displays, narratives, an identifier under a
 * system no profile knows, and the attachment's title. Returns every planted string that is not already
 * one of the record's plain identifiers.
 */
import { ageAt } from './china-time.js';
import type { RecordContext } from './fhir/context.js';
import { narrative } from './fhir/systems.js';
import { bankCardNumber, clinicCardNumber, formatMobile } from './identifiers.js';
import type { FhirResource } from './types.js';

export interface AwkwardTargets {
  patient: FhirResource;
  encounter: FhirResource;
  conditions: FhirResource[];
  observations: FhirResource[];
  medicationRequests: FhirResource[];
  invoice: FhirResource;
  documentReference?: FhirResource;
}

/** An OID arc no profile maps: de-identification must drop identifiers it does not recognise too. */
const UNFAMILIAR_IDENTIFIER_SYSTEM = 'urn:oid:1.2.156.112604.1.2.1196';

export function plantAwkwardIdentifiers(ctx: RecordContext, targets: AwkwardTargets): string[] {
  const { rng, patient, hospital, visitNumber, plan } = ctx;
  const relative = patient.relatives[0];
  const planted: string[] = [];
  const plant = (value: string) => {
    planted.push(value);
    return value;
  };
  const relativePhone = relative !== undefined ? plant(formatMobile(rng, relative.phone)) : undefined;

  // An extension only this hospital knows.
  const extensions = (targets.patient['extension'] as unknown[] | undefined) ?? [];
  targets.patient['extension'] = [
    ...extensions,
    {
      url: `https://${hospital.id}.hospital.hdx.local/fhir/StructureDefinition/emergency-contact`,
      valueString: relative !== undefined ? `紧急联系人：${relative.name}（${relative.relationship}）${relativePhone}` : `本人 ${patient.phone}`,
    },
  ];
  // An identifier under an unfamiliar system.
  (targets.patient['identifier'] as unknown[]).push({ system: UNFAMILIAR_IDENTIFIER_SYSTEM, value: plant(clinicCardNumber(rng)) });
  // Narratives.
  targets.patient['text'] ??= narrative([`${patient.name}，身份证号${patient.nationalId}，电话${patient.phone}`]);
  targets.encounter['text'] = narrative([
    `${patient.name}（${ageAt(patient.birthDate, plan.end)}岁）因${plan.diagnosis.complaint}就诊，${plan.encounterClass === 'IMP' ? '住院号' : '门诊号'}${visitNumber}。`,
  ]);

  // Free-text notes and reference displays.
  const honorific = plant(`${patient.surname}${patient.gender === 'male' ? '先生' : '女士'}`);
  const observation = targets.observations[0];
  if (observation !== undefined) {
    observation['note'] = [{ text: `标本由${honorific}本人送检，结果已短信发送至${plant(formatMobile(rng, patient.phone))}` }];
    observation['subject'] = { ...(observation['subject'] as object), display: patient.name };
  }
  const medicationRequest = targets.medicationRequests[0];
  if (medicationRequest !== undefined) {
    medicationRequest['subject'] = { ...(medicationRequest['subject'] as object), display: plant(`${patient.name}（病案号${patient.mrn}）`) };
  }
  const condition = targets.conditions[0];
  if (condition !== undefined && relative !== undefined) {
    condition['note'] = [{ text: `家属${relative.name}（${relative.relationship}）电话${relativePhone}，已告知病情及风险。` }];
  }
  const card = bankCardNumber(rng).replace(/(\d{4})(?=\d)/g, '$1 ');
  targets.invoice['note'] = [{ text: `押金退款账户：${plant(card)}（户名：${patient.name}）` }];

  // The attachment's title.
  const content = targets.documentReference?.['content'] as Array<{ attachment: { title?: string } }> | undefined;
  const attachment = content?.[0]?.attachment;
  if (attachment !== undefined) attachment.title = plant(`${patient.name}-${attachment.title ?? '病历'}-${visitNumber}`);
  return planted;
}
