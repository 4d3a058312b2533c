/**
 * The FHIR AuditEvent mapping (IHE BALP): each hdx action gets its pattern's codes, agents and entities;
 * a BALP profile is claimed only when everything it requires is present; entities carry only what the
 * event holds (ids, pseudonyms, digests, counts).
 */
import { describe, expect, it } from 'vitest';
import { loggedEventFrom, type LoggedEvent } from '../../compliance/audit-event.js';
import {
  BALP_AUTHZ_CONSENT,
  BALP_DISCLOSURE_SOURCE,
  LOG_EXTENSION,
  toFhirAuditEvent,
  type FhirAuditEvent,
  type FhirMappingOptions,
} from '../../compliance/fhir-audit-event.js';

const DIGEST_A = `sha256:${'A'.repeat(43)}`;
const DIGEST_B = `sha256:${'B'.repeat(43)}`;
const PATIENT = 'pref_0123456789abcdefghijklmnopqrstuv';
const LEAF = Buffer.alloc(32, 7);
const options: FhirMappingOptions = { origin: 'hdx.local/audit/v1', trustDomain: 'hdx.local' };

let seq = 0;
function event(fields: Partial<LoggedEvent> & Pick<LoggedEvent, 'action' | 'actor'>): LoggedEvent {
  return loggedEventFrom({ v: 1, seq: seq++, at: '2026-11-20T08:00:00.000Z', prev: '', outcome: 'ok', ...fields });
}

const coding = (r: FhirAuditEvent) => `${r.type.system}#${r.type.code}`;
const agentTypes = (r: FhirAuditEvent) => r.agent.map((a) => a.type.coding[0]!.code);
const agent = (r: FhirAuditEvent, code: string) => r.agent.find((a) => a.type.coding.some((c) => c.code === code));
const entityOf = (r: FhirAuditEvent, kind: string) => r.entity.find((e) => e.what.identifier?.system.endsWith(`/sid/${kind}`));

const transferCreate = event({
  action: 'transfer.create',
  actor: 'gateway',
  consent: 'cns_1',
  submission: 'sub_1',
  transfer: 'trf_1',
  patient: PATIENT,
  parties: ['nanshan-people', 'taikang-online'],
  details: { pseudonym: 'psn_x', envelopeDigest: DIGEST_A, payloadDigest: DIGEST_B, profile: 'claim-settlement', methods: { redact: 3 }, resourcesOut: 9 },
});

describe('PrivacyDisclosure.Source for disclosures', () => {
  it('transfer.create: Export/disclose by the gateway to the insurer, released by the hospital, for the patient', () => {
    const r = toFhirAuditEvent(transferCreate, LEAF, options);
    expect(r.resourceType).toBe('AuditEvent');
    expect(r.meta?.profile).toEqual([BALP_DISCLOSURE_SOURCE]);
    expect(coding(r)).toBe('http://dicom.nema.org/resources/ontology/DCM#110106');
    expect(r.action).toBe('R');
    expect(r.subtype?.map((c) => c.code)).toContain('disclose');
    expect(r.outcome).toBe('0');
    expect(r.recorded).toBe(transferCreate.at);
    const source = agent(r, '110153')!;
    expect(source.who.identifier).toEqual({ system: 'https://hdx.local/fhir/sid/party', value: 'gateway' });
    expect(source.network).toEqual({ address: 'spiffe://hdx.local/gateway/gateway', type: '5' });
    // val-audit-source: the source agent is the observer.
    expect(r.source.observer).toEqual(source.who);
    expect(agent(r, '110152')!.network?.address).toBe('spiffe://hdx.local/insurer/taikang-online');
    expect(agent(r, '159541003')!.who.identifier?.value).toBe('nanshan-people');
    const patient = r.entity.find((e) => e.role?.code === '1')!;
    expect(patient.type?.code).toBe('1');
    expect(patient.what).toEqual({ type: 'Patient', identifier: { system: 'https://hdx.local/fhir/sid/patient-ref', value: PATIENT } });
    expect(entityOf(r, 'consent')!.what.identifier?.value).toBe('cns_1');
    expect(entityOf(r, 'submission')!.what.identifier?.value).toBe('sub_1');
    const transfer = entityOf(r, 'transfer')!;
    expect(transfer.detail).toEqual(
      expect.arrayContaining([
        { type: 'envelopeDigest', valueString: DIGEST_A },
        { type: 'payloadDigest', valueString: DIGEST_B },
        { type: 'methods', valueString: '{"redact":3}' },
        { type: 'resourcesOut', valueString: '9' },
      ]),
    );
    const log = r.extension.find((x) => x.url === LOG_EXTENSION)!;
    expect(log.extension).toEqual(
      expect.arrayContaining([
        { url: 'seq', valueString: String(transferCreate.seq) },
        { url: 'leafHash', valueBase64Binary: LEAF.toString('base64') },
        { url: 'action', valueCode: 'transfer.create' },
      ]),
    );
  });

  it('transfer.deliver: coded as a disclosure pulled by the insurer; no profile claimed, since the event names no patient', () => {
    const r = toFhirAuditEvent(
      event({ action: 'transfer.deliver', actor: 'taikang-online', consent: 'cns_1', submission: 'sub_1', transfer: 'trf_1', details: { attempt: 1, envelopeDigest: DIGEST_A } }),
      LEAF,
      options,
    );
    expect(coding(r)).toBe('http://dicom.nema.org/resources/ontology/DCM#110106');
    expect(r.subtype?.map((c) => c.code)).toEqual(['disclose', 'transmit']);
    expect(agent(r, '110152')).toMatchObject({ requestor: true, who: { identifier: { value: 'taikang-online' } } });
    expect(r.meta).toBeUndefined();
  });
});

describe('AuthZconsent for consent decisions', () => {
  it('consent.grant: all four agent slices, patient and consent entities, purpose of use', () => {
    const r = toFhirAuditEvent(
      event({
        action: 'consent.grant',
        actor: 'nanshan-people',
        consent: 'cns_2',
        patient: PATIENT,
        parties: ['taikang-online'],
        details: { purpose: 'DIRECT_SETTLEMENT', categories: ['diagnosis', 'encounter'], hospitals: ['nanshan-people'], termsDigest: DIGEST_A },
      }),
      LEAF,
      options,
    );
    expect(r.meta?.profile).toEqual([BALP_AUTHZ_CONSENT]);
    expect(coding(r)).toBe('http://dicom.nema.org/resources/ontology/DCM#110113');
    expect(r.subtype).toEqual([expect.objectContaining({ system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType', code: 'AuthZ-Consent' })]);
    expect(r.action).toBe('E');
    expect(agentTypes(r).sort()).toEqual(['110150', 'IRCP', 'PROV', 'authserver'].sort());
    expect(agent(r, 'authserver')!.who).toEqual(r.source.observer);
    expect(agent(r, 'IRCP')).toMatchObject({ requestor: true, network: { address: 'spiffe://hdx.local/insurer/taikang-online' } });
    expect(r.entity.find((e) => e.type?.code === 'Consent')!.what.identifier?.value).toBe('cns_2');
    expect(r.purposeOfEvent).toEqual([{ coding: [expect.objectContaining({ code: 'HPAYMT' })] }]);
  });

  it('consent.revoke claims the profile only when the registry says who is who', () => {
    const revoke = event({ action: 'consent.revoke', actor: 'nanshan-people', consent: 'cns_2', patient: PATIENT, parties: ['taikang-online'], details: { termsDigest: DIGEST_A } });
    expect(toFhirAuditEvent(revoke, LEAF, options).meta).toBeUndefined();
    const roles: Record<string, 'hospital' | 'insurer'> = { 'nanshan-people': 'hospital', 'taikang-online': 'insurer' };
    const r = toFhirAuditEvent(revoke, LEAF, { ...options, roleOf: (id) => roles[id] });
    expect(r.meta?.profile).toEqual([BALP_AUTHZ_CONSENT]);
  });

  it('record.deny: a deny decision (outcome 8, with the reason); no consent entity, so no profile claim', () => {
    const r = toFhirAuditEvent(
      event({ action: 'record.deny', actor: 'nanshan-people', outcome: 'denied', patient: PATIENT, details: { reason: 'no-consent', purpose: 'CLAIM', bundleDigest: DIGEST_B } }),
      LEAF,
      options,
    );
    expect(coding(r)).toBe('http://dicom.nema.org/resources/ontology/DCM#110113');
    expect(r.outcome).toBe('8');
    expect(r.outcomeDesc).toBe('no-consent');
    expect(r.meta).toBeUndefined();
  });

  it('transfer.withhold: a deny on revocation, naming the insurer as the would-be recipient', () => {
    const r = toFhirAuditEvent(
      event({ action: 'transfer.withhold', actor: 'gateway', consent: 'cns_2', transfer: 'trf_9', parties: ['pingan-health'], details: { reason: 'consent-revoked' } }),
      LEAF,
      options,
    );
    expect(r.subtype?.[0]?.code).toBe('AuthZ-Consent');
    expect(agent(r, 'IRCP')!.who.identifier?.value).toBe('pingan-health');
  });
});

describe('the rest', () => {
  const cases: Array<[string, Partial<LoggedEvent>, string, string, string | undefined]> = [
    ['record.submit', { actor: 'nanshan-people', submission: 'sub_1', patient: PATIENT, parties: ['taikang-online'], details: { bundleDigest: DIGEST_A, purpose: 'CLAIM', signed: true, transfers: 1 } }, '110110', 'C', 'receive'],
    ['transfer.acknowledge', { actor: 'taikang-online', transfer: 'trf_1', details: { envelopeDigest: DIGEST_A, receiptDigest: DIGEST_B } }, '110110', 'C', 'receive'],
    ['transfer.purge', { actor: 'gateway', transfer: 'trf_1', parties: ['taikang-online'] }, '110110', 'D', 'destroy'],
    ['decision.record', { actor: 'taikang-online', transfer: 'trf_1', decision: 'dec_1', details: { decisionDigest: DIGEST_A } }, '110110', 'C', 'originate'],
    ['decision.acknowledge', { actor: 'nanshan-people', details: { throughCursor: 12, decisions: 3 } }, '110110', 'C', 'receive'],
    ['decision.purge', { actor: 'gateway', transfer: 'trf_1', decision: 'dec_1', parties: ['nanshan-people', 'taikang-online'] }, '110110', 'D', 'destroy'],
    ['audit.query', { actor: 'szdex', details: { filters: ['patientNationalId'] } }, '110101', 'R', undefined],
    ['key.rotate', { actor: 'gateway', details: { kid: 'k2' } }, '110113', 'E', '110129'],
    ['something.new', { actor: 'gateway' }, '110100', 'E', undefined],
  ];
  for (const [action, fields, type, act, subtype] of cases) {
    it(`${action} → DCM ${type}, action ${act}${subtype ? `, subtype ${subtype}` : ''}`, () => {
      const r = toFhirAuditEvent(event({ action, actor: 'gateway', ...fields }), LEAF, options);
      expect(r.type.code).toBe(type);
      expect(r.action).toBe(act);
      expect(r.subtype?.[0]?.code).toBe(subtype);
      expect(r.meta).toBeUndefined();
      expect(r.source.observer.identifier?.value).toBe('gateway');
    });
  }
});

describe('what a resource may hold', () => {
  it('every identifier and detail comes from the event itself; ids are valid FHIR ids', () => {
    const r = toFhirAuditEvent(transferCreate, LEAF, options);
    expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    const fromEvent = new Set<string>([
      PATIENT,
      'cns_1',
      'sub_1',
      'trf_1',
      'gateway',
      'nanshan-people',
      'taikang-online',
      ...Object.values(transferCreate.details).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    ]);
    const values = [
      ...r.agent.map((a) => a.who.identifier!.value),
      ...r.entity.map((e) => e.what.identifier!.value),
      ...r.entity.flatMap((e) => e.detail ?? []).map((d) => d.valueString),
    ];
    for (const v of values) expect(fromEvent.has(v), v).toBe(true);
  });
});
