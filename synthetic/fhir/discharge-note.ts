/**
 * The clinical note in the prose Chinese hospitals write — 出院小结 for a stay, 门诊病历 for a visit —
 * carried as a base64 attachment of a DocumentReference, and the Patient's narrative. Notes are where
 * identifiers hide in practice: the patient's name, numbers, a relative and phone numbers are all there.
 */
import { createHash } from 'node:crypto';
import { chineseDate, fhirDateTime } from '../china-time.js';
import { formatMobile } from '../identifiers.js';
import type { FhirResource } from '../types.js';
import { LOINC_SYSTEM } from '../vocabulary/labs.js';
import type { RecordContext } from './context.js';
import { addressText } from './patient-resource.js';
import { narrative, reference } from './systems.js';

const DOCUMENT_CATEGORY = 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category';

export interface ClinicalNote {
  title: string;
  text: string;
  /** Identifying strings the note contains in a form not already listed (phones as formatted here). */
  planted: string[];
}

export function clinicalNote(ctx: RecordContext): ClinicalNote {
  const { rng, patient, plan, visitNumber } = ctx;
  const sex = patient.gender === 'male' ? '男' : '女';
  const age = `${plan.ageAtDischarge}岁`;
  const relative = patient.relatives[0];
  const patientPhone = formatMobile(rng, patient.phone);
  const relativePhone = relative !== undefined ? formatMobile(rng, relative.phone) : undefined;
  const diagnoses = [plan.diagnosis, ...plan.comorbidities].map((d, i) => `${i + 1}. ${d.display}（${d.code}）`).join('；');
  const labs = plan.labs.map(({ test, value }) => `${test.name} ${value} ${test.unit}`).join('，');
  const procedures = plan.procedures.map((p) => `于${chineseDate(p.start)}行${p.code.display}`).join('，');
  const orders = plan.medications.map((m, i) => `${i + 1}. ${m.name} ${m.dosage}`);
  const contact = relative !== undefined && relativePhone !== undefined
    ? `家属联系人：${relative.name}（${relative.relationship}），联系电话：${relativePhone}。`
    : '';
  const lines =
    plan.encounterClass === 'IMP'
      ? [
          '出院小结',
          `姓名：${patient.name}　性别：${sex}　年龄：${age}　科室：${plan.diagnosis.department}　床号：${rng.int(1, 48)}床`,
          `住院号：${visitNumber}　病案号：${patient.mrn}`,
          `入院日期：${chineseDate(plan.start)}　出院日期：${chineseDate(plan.end)}　住院天数：${plan.lengthOfStay}天`,
          `入院诊断：${plan.diagnosis.display}`,
          `出院诊断：${diagnoses}`,
          `入院情况：患者${patient.name}，${sex}，${age}，因“${plan.diagnosis.complaint}”于${chineseDate(plan.start)}入院。查体：${plan.diagnosis.findings}。`,
          `诊疗经过：入院后完善相关检查，${labs}。${plan.imaging !== undefined ? `${plan.imaging.name}已完成。` : ''}` +
            `${plan.diagnosis.course}${procedures !== '' ? `，${procedures}，过程顺利` : ''}。`,
          `出院情况：${plan.diagnosis.outcome}，生命体征平稳，准予出院。`,
          '出院医嘱：',
          ...orders,
          `${orders.length + 1}. 出院后2周门诊复诊，如有不适及时就诊。`,
          `${contact}患者本人电话：${patientPhone}。`,
          `医师：${plan.doctor}　${chineseDate(plan.end)}`,
        ]
      : [
          '门诊病历',
          `姓名：${patient.name}　性别：${sex}　年龄：${age}　门诊号：${visitNumber}　科室：${plan.diagnosis.department}`,
          `住址：${addressText(patient)}`,
          `就诊时间：${fhirDateTime(plan.start).slice(0, 16).replace('T', ' ')}`,
          `主诉：${plan.diagnosis.complaint}`,
          `现病史：患者${patient.name}${plan.diagnosis.complaint}，今来我院就诊。`,
          `查体：${plan.diagnosis.findings}。`,
          `辅助检查：${labs}。`,
          `诊断：${diagnoses}`,
          `处理：${plan.diagnosis.course}${procedures !== '' ? `；${procedures}` : ''}。`,
          ...orders,
          `联系电话：${patientPhone}。${contact}`,
          `医师：${plan.doctor}`,
        ];
  return {
    title: plan.encounterClass === 'IMP' ? '出院小结' : '门诊病历',
    text: lines.join('\n'),
    planted: [patientPhone, ...(relativePhone !== undefined ? [relativePhone] : [])],
  };
}

export function documentReferenceResource(ctx: RecordContext, note: ClinicalNote): FhirResource {
  const { plan, urns, hospital } = ctx;
  const bytes = Buffer.from(note.text, 'utf8');
  const type =
    plan.encounterClass === 'IMP'
      ? { coding: [{ system: LOINC_SYSTEM, code: '18842-5', display: 'Discharge summary' }], text: '出院小结' }
      : { coding: [{ system: LOINC_SYSTEM, code: '34108-1', display: 'Outpatient Note' }], text: '门诊病历' };
  return {
    resourceType: 'DocumentReference',
    id: urns.note.id,
    status: 'current',
    docStatus: 'final',
    type,
    category: [{ coding: [{ system: DOCUMENT_CATEGORY, code: 'clinical-note', display: 'Clinical Note' }] }],
    subject: reference(urns.patient.urn),
    date: fhirDateTime(plan.end),
    author: [{ display: plan.doctor }],
    custodian: { display: hospital.name },
    description: type.text,
    content: [
      {
        attachment: {
          contentType: 'text/plain; charset=utf-8',
          language: 'zh-CN',
          data: bytes.toString('base64'),
          size: bytes.length,
          hash: createHash('sha1').update(bytes).digest('base64'), // FHIR R4 Attachment.hash is SHA-1
          title: note.title,
        },
      },
    ],
    context: { encounter: [reference(urns.encounter.urn)], period: { start: fhirDateTime(plan.start), end: fhirDateTime(plan.end) } },
  };
}

/** The Patient's human-readable summary, as HIS systems generate it. */
export function patientNarrative(ctx: RecordContext): ReturnType<typeof narrative> {
  const { patient } = ctx;
  return narrative([
    `${patient.name}，${patient.gender === 'male' ? '男' : '女'}，${patient.birthDate}出生`,
    `身份证号：${patient.nationalId}；联系电话：${patient.phone}`,
    `住址：${addressText(patient)}`,
  ]);
}
