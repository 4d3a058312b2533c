/** The two payers of a direct-settlement claim: public medical insurance (医保) and the commercial policy. */
import { chinaCalendarDate } from '../china-time.js';
import type { FhirResource } from '../types.js';
import { COMMERCIAL_INSURERS, SOCIAL_INSURANCE_PAYOR } from '../vocabulary/organisations.js';
import type { RecordContext } from './context.js';
import {
  COVERAGE_CLASS, COVERAGE_TYPE_SYSTEM, INSURER_ID_SYSTEM, insurerPolicySystem, money, reference,
  SOCIAL_INSURANCE_PAID_URL, SUBSCRIBER_RELATIONSHIP,
} from './systems.js';

const SELF = { coding: [{ system: SUBSCRIBER_RELATIONSHIP, code: 'self' }] };
const planClass = (value: string, name: string) => ({
  type: { coding: [{ system: COVERAGE_CLASS, code: 'plan' }] },
  value,
  name,
});

export function socialCoverageResource(ctx: RecordContext): FhirResource {
  const tier = ctx.rng.pick(['一档', '二档']);
  return {
    resourceType: 'Coverage',
    id: ctx.urns.socialCoverage.id,
    extension: [{ url: SOCIAL_INSURANCE_PAID_URL, valueMoney: money(ctx.bill.socialInsurancePaidFen) }],
    status: 'active',
    type: { coding: [{ system: COVERAGE_TYPE_SYSTEM, code: 'social-medical-insurance', display: '基本医疗保险' }] },
    subscriberId: ctx.patient.socialInsuranceNumber,
    beneficiary: reference(ctx.urns.patient.urn),
    relationship: SELF,
    payor: [{ display: SOCIAL_INSURANCE_PAYOR }],
    class: [planClass(tier, `深圳市基本医疗保险${tier}`)],
  };
}

export function commercialCoverageResource(ctx: RecordContext): FhirResource {
  const { rng, plan } = ctx;
  const insurer = rng.pick(COMMERCIAL_INSURERS);
  // A one-year policy that started 1–11 months before the stay, so it covers it.
  const [year, month] = chinaCalendarDate(plan.start);
  const startIndex = year * 12 + (month - 1) - rng.int(1, 11);
  const monthStart = (index: number) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01`;
  return {
    resourceType: 'Coverage',
    id: ctx.urns.commercialCoverage.id,
    identifier: [{ system: insurerPolicySystem(insurer.id), value: `P${Math.floor(startIndex / 12)}${rng.digits(10)}` }],
    status: 'active',
    type: { coding: [{ system: COVERAGE_TYPE_SYSTEM, code: 'commercial-health-insurance', display: '商业健康保险' }] },
    beneficiary: reference(ctx.urns.patient.urn),
    relationship: SELF,
    period: { start: monthStart(startIndex), end: monthStart(startIndex + 12) },
    payor: [{ identifier: { system: INSURER_ID_SYSTEM, value: insurer.id }, display: insurer.name }],
    class: [planClass(insurer.plan, insurer.plan)],
    order: 2,
  };
}
