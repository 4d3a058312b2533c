/**
 * Maps one hdx audit event to a FHIR R4 `AuditEvent` following IHE Basic Audit Log Patterns (BALP), so
 * an existing audit repository can ingest the exchange's log:
 *
 *   transfer.create, transfer.deliver       → PrivacyDisclosure.Source (Export, disclose)
 *   consent.grant, consent.revoke,
 *   record.deny, transfer.withhold/skip     → AuthZconsent (Security Alert, AuthZ-Consent): decisions
 *                                             taken on the strength of a patient's consent
 *   record.submit, transfer.acknowledge,
 *   transfer.purge, decision.*              → Patient Record (DCM 110110) with an ISO 21089 lifecycle code
 *   audit.query                             → Audit Log Used (DCM 110101)
 *   key.rotate, registry.reload             → Security Alert / Security Configuration
 *
 * `meta.profile` names a BALP profile only when the event carries everything that profile requires
 * (e.g. `transfer.deliver` does not name the patient, so it is coded as a disclosure without claiming
 * the profile). Entities carry ids, pseudonyms and digests only — what the event itself holds. Every
 * resource also carries the event's place in the transparency log (origin, seq, leaf hash) so that it
 * can be traced back to a signed checkpoint.
 */
import { detailText, type LoggedEvent } from './audit-event.js';

// Code systems.
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const SCT = 'http://snomed.info/sct';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const SECURITY_ROLE = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';
const AUTHZ_SUBTYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType';
const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';
const NETWORK_URI = '5';

export const BALP_DISCLOSURE_SOURCE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source';
export const BALP_AUTHZ_CONSENT = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.AuthZconsent';

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export interface Reference {
  type?: string;
  identifier?: { system: string; value: string };
  display?: string;
}

export interface AuditEventAgent {
  type: { coding: Coding[] };
  who: Reference;
  requestor: boolean;
  network?: { address: string; type: string };
  purposeOfUse?: Array<{ coding: Coding[] }>;
}

export interface AuditEventEntity {
  what: Reference;
  type?: Coding;
  role?: Coding;
  detail?: Array<{ type: string; valueString: string }>;
}

export interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueBase64Binary?: string;
  extension?: Extension[];
}

export interface FhirAuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  meta?: { profile: string[] };
  extension: Extension[];
  type: Coding;
  subtype?: Coding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  purposeOfEvent?: Array<{ coding: Coding[] }>;
  agent: AuditEventAgent[];
  source: { site: string; observer: Reference; type: Coding[] };
  entity: AuditEventEntity[];
}

export type PartyRole = 'hospital' | 'insurer' | 'regulator' | 'gateway';

export interface FhirMappingOptions {
  /** The log's checkpoint origin, e.g. `hdx.local/audit/v1`. */
  origin: string;
  /** The exchange's trust domain, e.g. `hdx.local`: party URIs and identifier systems derive from it. */
  trustDomain: string;
  /** A party's role, if the officer knows the registry; roles implied by the action are used otherwise. */
  roleOf?: (partyId: string) => PartyRole | undefined;
}

/** The gateway's own party id in events. */
const GATEWAY = 'gateway';

const code = (system: string, c: string, display?: string): Coding => ({ system, code: c, ...(display ? { display } : {}) });

const PURPOSE_OF_USE: Record<string, Coding> = {
  DIRECT_SETTLEMENT: code(ACT_REASON, 'HPAYMT', 'healthcare payment'),
  CLAIM: code(ACT_REASON, 'HPAYMT', 'healthcare payment'),
  STATISTICS: code(ACT_REASON, 'HOPERAT', 'healthcare operations'),
};

/** The `hdx-log` extension: where this event sits in the transparency log. */
export const LOG_EXTENSION = 'https://hdx.local/fhir/StructureDefinition/transparency-log-entry';

export function toFhirAuditEvent(event: LoggedEvent, leafHash: Uint8Array, options: FhirMappingOptions): FhirAuditEvent {
  const m = new Mapper(event, options);
  const base = {
    resourceType: 'AuditEvent' as const,
    id: `hdx-${event.seq}`,
    extension: [
      {
        url: LOG_EXTENSION,
        extension: [
          { url: 'origin', valueString: options.origin },
          { url: 'seq', valueString: String(event.seq) },
          { url: 'leafHash', valueBase64Binary: Buffer.from(leafHash).toString('base64') },
          { url: 'action', valueCode: event.action },
        ],
      },
    ],
    recorded: event.at,
    ...m.outcome(),
    ...m.purposeOfEvent(),
    source: { site: options.origin, observer: m.party(GATEWAY), type: [code(SOURCE_TYPE, '4', 'Application Server')] },
  };
  switch (event.action) {
    case 'transfer.create':
    case 'transfer.deliver':
      return withProfile({ ...base, ...m.disclosure() }, BALP_DISCLOSURE_SOURCE, isCompleteDisclosure);
    case 'consent.grant':
    case 'consent.revoke':
    case 'record.deny':
    case 'transfer.withhold':
    case 'transfer.skip':
      return withProfile({ ...base, ...m.authzConsent() }, BALP_AUTHZ_CONSENT, isCompleteAuthz);
    case 'record.submit':
      return { ...base, ...m.recordLifecycle('C', 'receive', 'Receive Record Lifecycle Event') };
    case 'transfer.acknowledge':
    case 'decision.acknowledge':
      return { ...base, ...m.recordLifecycle('C', 'receive', 'Receive Record Lifecycle Event') };
    case 'transfer.purge':
    case 'decision.purge':
      return { ...base, ...m.recordLifecycle('D', 'destroy', 'Destroy Record Lifecycle Event') };
    case 'decision.record':
    case 'decision.refuse':
      return { ...base, ...m.recordLifecycle('C', 'originate', 'Originate/Retain Record Lifecycle Event') };
    case 'audit.query':
      return { ...base, ...m.auditQuery() };
    case 'key.rotate':
    case 'registry.reload':
      return { ...base, ...m.securityConfiguration() };
    default:
      return { ...base, ...m.other() };
  }
}

type Body = Pick<FhirAuditEvent, 'type' | 'subtype' | 'action' | 'agent' | 'entity'>;

function withProfile(resource: FhirAuditEvent, profile: string, complete: (r: FhirAuditEvent) => boolean): FhirAuditEvent {
  return complete(resource) ? { ...resource, meta: { profile: [profile] } } : resource;
}

const hasAgent = (r: FhirAuditEvent, system: string, c: string) => r.agent.some((a) => a.type.coding.some((x) => x.system === system && x.code === c));
const hasEntity = (r: FhirAuditEvent, system: string, c: string) => r.entity.some((e) => e.type?.system === system && e.type.code === c);
const hasPatient = (r: FhirAuditEvent) => r.entity.some((e) => e.role?.system === OBJECT_ROLE && e.role.code === '1');

function isCompleteDisclosure(r: FhirAuditEvent): boolean {
  return hasAgent(r, DCM, '110153') && hasAgent(r, DCM, '110152') && hasPatient(r) && r.entity.length >= 2;
}

function isCompleteAuthz(r: FhirAuditEvent): boolean {
  return (
    hasAgent(r, DCM, '110150') &&
    hasAgent(r, PARTICIPATION, 'IRCP') &&
    hasAgent(r, ROLE_CLASS, 'PROV') &&
    hasAgent(r, SECURITY_ROLE, 'authserver') &&
    hasPatient(r) &&
    hasEntity(r, RESOURCE_TYPES, 'Consent')
  );
}

class Mapper {
  constructor(private readonly e: LoggedEvent, private readonly o: FhirMappingOptions) {}

  private sid(kind: string): string {
    return `https://${this.o.trustDomain}/fhir/sid/${kind}`;
  }

  /** The role of a party in this event: from the registry if known, else as the action implies. */
  private roleOf(id: string, implied?: PartyRole): PartyRole | undefined {
    if (id === GATEWAY) return 'gateway';
    return this.o.roleOf?.(id) ?? implied;
  }

  party(id: string): Reference {
    return { identifier: { system: this.sid('party'), value: id } };
  }

  private agent(type: Coding, id: string, requestor: boolean, role?: PartyRole): AuditEventAgent {
    const r = this.roleOf(id, role);
    return {
      type: { coding: [type] },
      who: this.party(id),
      requestor,
      ...(r ? { network: { address: `spiffe://${this.o.trustDomain}/${r}/${id}`, type: NETWORK_URI } } : {}),
    };
  }

  outcome(): Pick<FhirAuditEvent, 'outcome' | 'outcomeDesc'> {
    const reason = this.e.details['reason'];
    const desc = typeof reason === 'string' ? { outcomeDesc: reason } : {};
    switch (this.e.outcome) {
      case 'ok':
        return { outcome: '0' };
      case 'denied':
        return { outcome: '8', ...desc };
      default:
        return { outcome: '4', ...desc };
    }
  }

  purposeOfEvent(): Pick<FhirAuditEvent, 'purposeOfEvent'> {
    const purpose = this.e.details['purpose'];
    const coding = typeof purpose === 'string' ? PURPOSE_OF_USE[purpose] : undefined;
    return coding ? { purposeOfEvent: [{ coding: [coding] }] } : {};
  }

  private patient(): AuditEventEntity[] {
    if (!this.e.patient) return [];
    return [
      {
        what: { type: 'Patient', identifier: { system: this.sid('patient-ref'), value: this.e.patient } },
        type: code(ENTITY_TYPE, '1', 'Person'),
        role: code(OBJECT_ROLE, '1', 'Patient'),
      },
    ];
  }

  private idEntity(kind: 'consent' | 'submission' | 'transfer' | 'decision', withDetails: boolean): AuditEventEntity[] {
    const value = this.e[kind];
    if (!value) return [];
    const type =
      kind === 'consent'
        ? code(RESOURCE_TYPES, 'Consent', 'Consent')
        : kind === 'decision'
          ? code(RESOURCE_TYPES, 'ClaimResponse', 'ClaimResponse')
          : code(RESOURCE_TYPES, 'Bundle', 'Bundle');
    return [
      {
        what: { identifier: { system: this.sid(kind), value } },
        type,
        ...(kind === 'consent' ? {} : { role: code(OBJECT_ROLE, '4', 'Domain Resource') }),
        ...(withDetails ? this.details() : {}),
      },
    ];
  }

  private details(): Pick<AuditEventEntity, 'detail'> {
    const entries = Object.entries(this.e.details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length ? { detail: entries.map(([type, v]) => ({ type, valueString: detailText(v) })) } : {};
  }

  /** The entity that gets the event's details: the most specific object the event is about. */
  private entities(): AuditEventEntity[] {
    const primary = this.e.transfer ? 'transfer' : this.e.decision ? 'decision' : this.e.submission ? 'submission' : this.e.consent ? 'consent' : undefined;
    const kinds = ['transfer', 'decision', 'submission', 'consent'] as const;
    const out = [...this.patient(), ...kinds.flatMap((k) => this.idEntity(k, k === primary))];
    if (!primary && Object.keys(this.e.details).length > 0) {
      out.push({
        what: { identifier: { system: this.sid('audit-event'), value: String(this.e.seq) } },
        type: code(ENTITY_TYPE, '2', 'System Object'),
        ...this.details(),
      });
    }
    return out;
  }

  disclosure(): Body {
    const { e } = this;
    const agents: AuditEventAgent[] = [this.agent(code(DCM, '110153', 'Source Role ID'), GATEWAY, false)];
    if (e.action === 'transfer.create') {
      // The gateway records who released the record (the hospital) and who receives it (the insurer).
      const [hospital, insurer] = e.parties;
      if (insurer) agents.push(this.agent(code(DCM, '110152', 'Destination Role ID'), insurer, false, 'insurer'));
      if (hospital) agents.push(this.agent(code(SCT, '159541003', 'Record keeping/library clerk'), hospital, true, 'hospital'));
    } else {
      // transfer.deliver: the insurer pulled it.
      agents.push(this.agent(code(DCM, '110152', 'Destination Role ID'), e.actor, true, 'insurer'));
    }
    if (e.patient) {
      agents.push({
        type: { coding: [code(SCT, '429577009', 'Patient Advocate')] },
        who: { type: 'Patient', identifier: { system: this.sid('patient-ref'), value: e.patient } },
        requestor: false,
      });
    }
    const subtype = [code(LIFECYCLE, 'disclose', 'Disclose Record Lifecycle Event')];
    if (e.action === 'transfer.create') {
      subtype.push(
        code(LIFECYCLE, 'deidentify'),
        code(LIFECYCLE, 'pseudonymize', 'Pseudonymize Record Lifecycle Event'),
        code(LIFECYCLE, 'encrypt', 'Encrypt Record Lifecycle Event'),
      );
    } else {
      subtype.push(code(LIFECYCLE, 'transmit', 'Transmit Record Lifecycle Event'));
    }
    return { type: code(DCM, '110106', 'Export'), subtype, action: 'R', agent: agents, entity: this.entities() };
  }

  authzConsent(): Body {
    const { e } = this;
    const agents: AuditEventAgent[] = [
      this.agent(code(SECURITY_ROLE, 'authserver', 'authorization server'), GATEWAY, false),
    ];
    const client = (id: string, role?: PartyRole) => this.agent(code(DCM, '110150', 'Application'), id, false, role);
    const recipient = (id: string) => this.agent(code(PARTICIPATION, 'IRCP', 'information recipient'), id, true, 'insurer');
    const provider = (id: string) => this.agent(code(ROLE_CLASS, 'PROV', 'healthcare provider'), id, false, 'hospital');
    switch (e.action) {
      case 'consent.grant': {
        // Recorded by a hospital (its adapter is the client) for the insurer the patient named.
        agents.push(client(e.actor, 'hospital'), provider(e.actor));
        for (const insurer of e.parties) agents.push(recipient(insurer));
        break;
      }
      case 'consent.revoke': {
        // Hospitals revoke (docs/decisions.md); older logs may name an insurer. Roles come from the registry when the officer supplied it.
        const actorRole = this.roleOf(e.actor);
        agents.push(client(e.actor, actorRole));
        for (const id of [e.actor, ...e.parties]) {
          const role = this.roleOf(id);
          if (role === 'insurer') agents.push(recipient(id));
          else if (role === 'hospital') agents.push(provider(id));
        }
        break;
      }
      case 'record.deny':
        agents.push(client(e.actor, 'hospital'), provider(e.actor));
        break;
      case 'transfer.withhold':
      case 'transfer.skip':
        for (const insurer of e.parties) agents.push(recipient(insurer));
        break;
    }
    return {
      type: code(DCM, '110113', 'Security Alert'),
      subtype: [code(AUTHZ_SUBTYPE, 'AuthZ-Consent', 'Authorization Decision using Roles and Consent')],
      action: 'E',
      agent: agents,
      entity: this.entities(),
    };
  }

  private actorAndParties(requestorIsActor = true): AuditEventAgent[] {
    const { e } = this;
    const agents: AuditEventAgent[] = [];
    if (e.actor !== GATEWAY) agents.push(this.agent(code(DCM, '110150', 'Application'), e.actor, requestorIsActor));
    agents.push(this.agent(code(DCM, '110153', 'Source Role ID'), GATEWAY, e.actor === GATEWAY));
    for (const id of e.parties) {
      if (id !== e.actor) agents.push(this.agent(code(DCM, '110152', 'Destination Role ID'), id, false));
    }
    return agents;
  }

  recordLifecycle(action: 'C' | 'D', lifecycle: string, display: string): Body {
    return {
      type: code(DCM, '110110', 'Patient Record'),
      subtype: [code(LIFECYCLE, lifecycle, display)],
      action,
      agent: this.actorAndParties(),
      entity: this.entities(),
    };
  }

  auditQuery(): Body {
    return {
      type: code(DCM, '110101', 'Audit Log Used'),
      action: 'R',
      agent: this.actorAndParties(),
      entity: [
        {
          what: { identifier: { system: this.sid('audit-log'), value: this.o.origin } },
          type: code(ENTITY_TYPE, '2', 'System Object'),
          role: code(OBJECT_ROLE, '24', 'Query'),
          ...this.details(),
        },
      ],
    };
  }

  securityConfiguration(): Body {
    return {
      type: code(DCM, '110113', 'Security Alert'),
      subtype: [code(DCM, '110129', 'Security Configuration')],
      action: 'E',
      agent: this.actorAndParties(),
      entity: this.entities(),
    };
  }

  other(): Body {
    return { type: code(DCM, '110100', 'Application Activity'), action: 'E', agent: this.actorAndParties(), entity: this.entities() };
  }
}
