/** ChargeItems (one per bill line) and the Invoice that totals them. */
import { CHARGE_CATEGORY_NAMES } from '../charges.js';
import { fhirDateTime } from '../china-time.js';
import type { FhirResource } from '../types.js';
import type { RecordContext } from './context.js';
import { CHARGE_CATEGORY_SYSTEM, money, reference } from './systems.js';

export function chargeItemResources(ctx: RecordContext): FhirResource[] {
  const { bill, urns, plan } = ctx;
  return bill.lines.map((line, index) => ({
    resourceType: 'ChargeItem',
    id: urns.chargeItems[index]?.id,
    status: 'billed',
    code: {
      coding: [{ system: CHARGE_CATEGORY_SYSTEM, code: line.category, display: CHARGE_CATEGORY_NAMES[line.category] }],
      text: line.description,
    },
    subject: reference(urns.patient.urn),
    context: reference(urns.encounter.urn),
    ...('at' in line.occurrence
      ? { occurrenceDateTime: fhirDateTime(line.occurrence.at) }
      : { occurrencePeriod: { start: fhirDateTime(line.occurrence.start), end: fhirDateTime(line.occurrence.end) } }),
    quantity: { value: line.quantity },
    // priceOverride is the line's total, not a unit price (FHIR R4 ChargeItem).
    priceOverride: money(line.amountFen),
    enteredDate: fhirDateTime(plan.end),
  }));
}

export function invoiceResource(ctx: RecordContext): FhirResource {
  const { bill, urns, plan, hospital } = ctx;
  return {
    resourceType: 'Invoice',
    id: urns.invoice.id,
    status: 'issued',
    type: { text: plan.encounterClass === 'IMP' ? '住院收费票据' : '门诊收费票据' },
    subject: reference(urns.patient.urn),
    date: fhirDateTime(plan.end),
    issuer: { display: hospital.name },
    lineItem: bill.lines.map((line, index) => ({
      sequence: index + 1,
      chargeItemReference: reference(urns.chargeItems[index]?.urn ?? ''),
      priceComponent: [{ type: 'base', amount: money(line.amountFen) }],
    })),
    totalNet: money(bill.totalFen),
    totalGross: money(bill.totalFen),
  };
}
