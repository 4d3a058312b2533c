/** Conversions between wire enums/messages and domain types. The wire's *_UNSPECIFIED maps to undefined. */
import { DataCategory, Purpose } from '../../proto/gen/hdx/v1/common.js';
import type { ConsentTerms as WireTerms, Consent as WireConsent } from '../../proto/gen/hdx/v1/consent.js';
import { ConsentStatus } from '../../proto/gen/hdx/v1/consent.js';
import type { ConsentStatus as DomainStatus, ConsentView } from '../consent/service.js';
import type { ConsentTerms, DataCategory as DomainCategory, Purpose as DomainPurpose } from '../consent/terms.js';
import { InvalidInput } from '../errors.js';

const PURPOSE_IN: Partial<Record<Purpose, DomainPurpose>> = {
  [Purpose.PURPOSE_DIRECT_SETTLEMENT]: 'DIRECT_SETTLEMENT',
  [Purpose.PURPOSE_CLAIM]: 'CLAIM',
  [Purpose.PURPOSE_STATISTICS]: 'STATISTICS',
};
const PURPOSE_OUT: Record<DomainPurpose, Purpose> = {
  DIRECT_SETTLEMENT: Purpose.PURPOSE_DIRECT_SETTLEMENT,
  CLAIM: Purpose.PURPOSE_CLAIM,
  STATISTICS: Purpose.PURPOSE_STATISTICS,
};
const CATEGORY_IN: Partial<Record<DataCategory, DomainCategory>> = {
  [DataCategory.DATA_CATEGORY_ENCOUNTER]: 'encounter',
  [DataCategory.DATA_CATEGORY_DIAGNOSIS]: 'diagnosis',
  [DataCategory.DATA_CATEGORY_PROCEDURE]: 'procedure',
  [DataCategory.DATA_CATEGORY_MEDICATION]: 'medication',
  [DataCategory.DATA_CATEGORY_LAB]: 'lab',
  [DataCategory.DATA_CATEGORY_CHARGES]: 'charges',
  [DataCategory.DATA_CATEGORY_NOTES]: 'notes',
};
const CATEGORY_OUT = Object.fromEntries(Object.entries(CATEGORY_IN).map(([k, v]) => [v, Number(k)])) as Record<
  DomainCategory,
  DataCategory
>;
const STATUS_OUT: Record<DomainStatus, ConsentStatus> = {
  active: ConsentStatus.CONSENT_STATUS_ACTIVE,
  revoked: ConsentStatus.CONSENT_STATUS_REVOKED,
  expired: ConsentStatus.CONSENT_STATUS_EXPIRED,
  'not-yet-valid': ConsentStatus.CONSENT_STATUS_NOT_YET_VALID,
};

export function purposeIn(p: Purpose): DomainPurpose | undefined {
  return PURPOSE_IN[p];
}

export function purposeOut(p: DomainPurpose): Purpose {
  return PURPOSE_OUT[p];
}

export function termsIn(t: WireTerms | undefined): ConsentTerms {
  if (!t) throw new InvalidInput('terms are required');
  const purpose = purposeIn(t.purpose);
  if (!purpose) throw new InvalidInput('terms.purpose is required');
  return {
    insurerId: t.insurerId,
    policyNumber: t.policyNumber,
    purpose,
    categories: t.categories.map((c) => {
      const category = CATEGORY_IN[c];
      if (!category) throw new InvalidInput('terms.categories has an unknown category');
      return category;
    }),
    hospitalIds: t.hospitalIds,
    anyHospital: t.anyHospital,
    validFrom: t.validFrom as Date,
    validUntil: t.validUntil as Date,
    capture: {
      channel: t.capture?.channel ?? '',
      capturedAt: t.capture?.capturedAt as Date,
      noticeVersion: t.capture?.noticeVersion ?? '',
      formDigest: t.capture?.formDigest ?? '',
    },
  };
}

export function termsOut(t: ConsentTerms): WireTerms {
  return {
    insurerId: t.insurerId,
    policyNumber: t.policyNumber,
    purpose: PURPOSE_OUT[t.purpose],
    categories: t.categories.map((c) => CATEGORY_OUT[c]),
    hospitalIds: t.hospitalIds,
    anyHospital: t.anyHospital,
    validFrom: t.validFrom,
    validUntil: t.validUntil,
    capture: { ...t.capture },
  };
}

export function consentOut(c: ConsentView): WireConsent {
  return {
    consentId: c.consentId,
    terms: termsOut(c.terms),
    status: STATUS_OUT[c.status],
    recordedBy: c.recordedBy,
    recordedAt: c.recordedAt,
    revokedAt: c.revokedAt,
  };
}
