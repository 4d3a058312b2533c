/**
 * The authorization matrix: every RPC of every generated service definition (proto/gen) × every kind of
 * caller, each with the exact gRPC status expected, over real mutual TLS on loopback. The methods come from
 * the definitions themselves, so a new RPC without a row here fails the test.
 *
 * Requests are chosen so that a status says what the gateway decided about the caller: a registered caller
 * the method allows gets OK (or a validation error that comes after the role check), another party's
 * resource is NOT_FOUND, a wrong role is PERMISSION_DENIED, a certificate the registry does not (or no
 * longer) know is UNAUTHENTICATED, and a certificate the TLS layer refuses never gets a call through
 * (UNAVAILABLE: the connection is refused during the handshake). For a request stream the cell is what its
 * one request got (a per-item status), or the call's status when the call itself was refused.
 */
import { status, type Client, type ServiceError } from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { signDraft, submitSignedDecision } from '../../insurer-adapter/adjudicate.js';
import { issueParty } from '../../keys/exchange/issue.js';
import { loadPartyIdentity } from '../../keys/exchange/load.js';
import { partyUri, type Role } from '../../keys/identity.js';
import { createCa } from '../../keys/pki.js';
import { connectGateway, type GatewayClients } from '../../proto/connect.js';
import { createGenerator } from '../../synthetic/index.js';
import {
  connectWith,
  createTestExchange,
  idem,
  issueTestCertificate,
  openSessions,
  removeFromRegistry,
  startTestGateway,
  terms,
  type Sessions,
  type TestExchange,
  type TestGateway,
} from '../support/harness.js';
import { receive } from '../settlement/support.js';

/** One generated method definition, as grpc-js takes it. */
interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): object;
  responseDeserialize(bytes: Buffer): unknown;
}

const GENERATED = join(import.meta.dirname, '..', '..', 'proto', 'gen', 'hdx', 'v1');

/** Every method of every `…Service` definition exported by the generated modules. */
async function generatedMethods(): Promise<MethodDefinition[]> {
  const methods: MethodDefinition[] = [];
  for (const file of readdirSync(GENERATED).filter((f) => f.endsWith('.ts')).sort()) {
    const module = (await import(join(GENERATED, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (!name.endsWith('Service') || typeof value !== 'object' || value === null) continue;
      for (const method of Object.values(value as Record<string, unknown>)) {
        const m = method as Partial<MethodDefinition>;
        if (typeof m?.path === 'string' && typeof m.requestSerialize === 'function') methods.push(m as MethodDefinition);
      }
    }
  }
  return methods;
}

const CALLERS = [
  'nanshan', // hospital
  'szu', // hospital
  'taikang', // insurer
  'pingan', // insurer
  'regulator',
  'removed', // a hospital taken out of the registry (its certificate is still valid)
  'unknown', // a certificate from the exchange CA for a party the registry never listed
  'foreignCa', // nanshan's URI, signed by another CA
  'expired', // nanshan's URI, exchange CA, expired
  'notYetValid', // nanshan's URI, exchange CA, valid from next week
  'serverOnly', // nanshan's URI, exchange CA, extended key usage serverAuth only
  'noCertificate',
] as const;
type Caller = (typeof CALLERS)[number];
type Code = keyof typeof status;

/** The registered callers' row; every other caller is refused before the gateway looks at the request. */
type Registered = Record<'nanshan' | 'szu' | 'taikang' | 'pingan' | 'regulator', Code>;
const refusedIdentities = {
  removed: 'UNAUTHENTICATED',
  unknown: 'UNAUTHENTICATED',
  foreignCa: 'UNAVAILABLE',
  expired: 'UNAVAILABLE',
  notYetValid: 'UNAVAILABLE',
  serverOnly: 'UNAVAILABLE',
  noCertificate: 'UNAVAILABLE',
} as const satisfies Record<Exclude<Caller, keyof Registered>, Code>;

const row = (
  nanshan: Code,
  szu: Code,
  taikang: Code,
  pingan: Code,
  regulator: Code,
): Record<Caller, Code> => ({ nanshan, szu, taikang, pingan, regulator, ...refusedIdentities });

/** What the fixtures made (see beforeAll): ids the requests refer to. */
interface Fixtures {
  patientNationalId: string;
  /** nanshan's consent for taikang, covering nanshan only. */
  consentId: string;
  /** nanshan's consent for pingan, covering nanshan only: the one revoked. */
  revocableConsentId: string;
  /** nanshan's submission, delivered to taikang (transferId), acknowledged and decided. */
  submissionId: string;
  transferId: string;
  decisionJws: string;
}

interface Entry {
  request: (f: Fixtures) => object;
  expected: Record<Caller, Code>;
}

/** Columns: nanshan, szu (hospitals), taikang, pingan (insurers), regulator. */
const MATRIX: Record<string, Entry> = {
  '/hdx.v1.AuditService/QueryEvents': {
    request: () => ({ limit: 1 }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/GetCheckpoint': {
    request: () => ({}),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/GetInclusionProof': {
    request: () => ({ seq: 0, treeSize: 1 }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/GetConsistencyProof': {
    request: () => ({ size1: 1, size2: 1 }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/ListEvents': {
    request: () => ({ startSeq: 0, limit: 1 }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/ListTreeNodes': {
    request: () => ({ fromSize: 0, toSize: 1 }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.AuditService/GetEvidence': {
    request: (f) => ({ transferId: f.transferId }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.ConsentService/GrantConsent': {
    // Any hospital, so that either hospital may record it.
    request: (f) => ({
      idempotencyKey: idem('matrix'),
      patientNationalId: f.patientNationalId,
      terms: terms({ insurerId: 'taikang-online', anyHospital: true, hospitalIds: [] }),
    }),
    expected: row('OK', 'OK', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.ConsentService/RevokeConsent': {
    // Revoking again is OK (the consent stays revoked); szu may not see it; only hospitals revoke.
    request: (f) => ({ idempotencyKey: idem('matrix'), consentId: f.revocableConsentId }),
    expected: row('OK', 'NOT_FOUND', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.ConsentService/GetConsent': {
    request: (f) => ({ consentId: f.consentId }),
    expected: row('OK', 'NOT_FOUND', 'OK', 'NOT_FOUND', 'OK'),
  },
  '/hdx.v1.ConsentService/ListConsents': {
    // Everyone may list; what each sees is tested in test/integration/consent-access.test.ts.
    request: () => ({ includeInactive: true }),
    expected: row('OK', 'OK', 'OK', 'OK', 'OK'),
  },
  '/hdx.v1.DeliveryService/PullTransfers': {
    request: () => ({ maxTransfers: 1, follow: false }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK', 'OK', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.DeliveryService/AcknowledgeTransfer': {
    // Already acknowledged by taikang: its retry is answered with the first acknowledgement.
    request: (f) => ({ idempotencyKey: idem('matrix'), transferId: f.transferId, receipt: 'not-a-receipt' }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK', 'NOT_FOUND', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.DeliveryService/AcknowledgeTransfers': {
    // One item, refused or accepted exactly as AcknowledgeTransfer.
    request: (f) => ({ acknowledgements: [{ idempotencyKey: idem('matrix'), transferId: f.transferId, receipt: 'not-a-receipt' }] }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK', 'NOT_FOUND', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.DirectoryService/GetJwks': {
    request: () => ({}),
    expected: row('OK', 'OK', 'OK', 'OK', 'OK'),
  },
  '/hdx.v1.DirectoryService/GetPartyKeys': {
    request: () => ({ partyId: 'nanshan-people' }),
    expected: row('OK', 'OK', 'OK', 'OK', 'OK'),
  },
  '/hdx.v1.RecordService/SubmitRecord': {
    // Past the role check a hospital is told what is wrong with the bundle.
    request: () => ({ idempotencyKey: idem('matrix'), bundle: Buffer.from('{}'), purpose: 1, signature: '' }),
    expected: row('INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.RecordService/SubmitRecords': {
    // One record on the stream: refused per item as SubmitRecord refuses it; the stream itself ends OK.
    request: () => ({
      sequence: 1,
      record: { idempotencyKey: idem('matrix'), bundle: Buffer.from('{}'), purpose: 1, signature: '' },
    }),
    expected: row('INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.RecordService/GetSubmission': {
    request: (f) => ({ submissionId: f.submissionId }),
    expected: row('OK', 'NOT_FOUND', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
  '/hdx.v1.SettlementService/SubmitDecision': {
    // taikang's own decision again (a replay: OK); pingan's signature check fails on taikang's token.
    request: (f) => ({ idempotencyKey: idem('matrix'), decision: f.decisionJws }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK', 'INVALID_ARGUMENT', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.SettlementService/SubmitDecisions': {
    // One item, refused or accepted exactly as SubmitDecision.
    request: (f) => ({ decisions: [{ idempotencyKey: idem('matrix'), decision: f.decisionJws }] }),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK', 'INVALID_ARGUMENT', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.SettlementService/StreamDecisions': {
    request: () => ({ afterCursor: 0, follow: false }),
    expected: row('OK', 'OK', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.SettlementService/AcknowledgeDecisions': {
    request: () => ({ throughCursor: 1 }),
    expected: row('OK', 'OK', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED'),
  },
  '/hdx.v1.SettlementService/GetServiceLevels': {
    request: () => ({}),
    expected: row('PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'OK'),
  },
};

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
let methods: MethodDefinition[];
let fixtures: Fixtures;
const clientsOf = new Map<Caller, Client>();
const toClose: GatewayClients[] = [];

beforeAll(async () => {
  methods = await generatedMethods();
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  s = await openSessions(ex, gw);

  // A hospital that was registered and is removed: its certificate stays valid, the registry forgets it.
  await issueParty(ex.summary.dir, { role: 'hospital', id: 'removed-clinic', name: 'removed clinic' });
  await gw.running.reloadRegistry();
  removeFromRegistry(ex, 'removed-clinic');
  await gw.running.reloadRegistry();

  const uri = (role: Role, id: string) => partyUri(ex.summary.trustDomain, role, id);
  const nanshanUri = uri('hospital', 'nanshan-people');
  const DAY = 86_400_000;
  const raw: Partial<Record<Caller, GatewayClients>> = {
    removed: connectGateway(gw.address, loadPartyIdentity(ex.partyDir('removed-clinic')).tls),
    unknown: connectWith(ex, gw, issueTestCertificate(ex, uri('hospital', 'stranger'))),
    foreignCa: connectWith(ex, gw, issueTestCertificate(ex, nanshanUri, { ca: createCa({ trustDomain: ex.summary.trustDomain, validDays: 1 }) })),
    expired: connectWith(ex, gw, issueTestCertificate(ex, nanshanUri, { notBefore: new Date(Date.now() - 10 * DAY) })),
    notYetValid: connectWith(ex, gw, issueTestCertificate(ex, nanshanUri, { notBefore: new Date(Date.now() + 7 * DAY) })),
    serverOnly: connectWith(ex, gw, issueTestCertificate(ex, nanshanUri, { usage: 'server' })),
    noCertificate: connectWith(ex, gw, null),
  };
  for (const [caller, clients] of Object.entries(raw) as Array<[Caller, GatewayClients]>) {
    clientsOf.set(caller, clients.consent);
    toClose.push(clients);
  }
  clientsOf.set('nanshan', s.nanshan.clients.consent);
  clientsOf.set('szu', s.szu.clients.consent);
  clientsOf.set('taikang', s.taikang.clients.consent);
  clientsOf.set('pingan', s.pingan.clients.consent);
  clientsOf.set('regulator', s.regulator.clients.consent);

  // The resources the requests name: consents, a submission delivered, acknowledged and decided.
  const record = createGenerator(14_14).dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - DAY) });
  const grant = async (insurerId: string) =>
    (await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: record.patient.nationalId, terms: terms({ insurerId }) }))
      .consent!.consentId;
  const consentId = await grant('taikang-online');
  const submitted = await submitBundle(s.nanshan, Buffer.from(JSON.stringify(record.bundle)));
  const revocableConsentId = await grant('pingan-health');
  const transferId = submitted.transfers[0]!.transferId;
  const received = await receive(s.taikang, ex.root, transferId);
  const draft = { outcome: 'approved' as const, amounts: { totalCharges: '100.00', socialInsurancePaid: '60.00', patientPaid: '40.00', payable: '40.00', patientRemainder: '0.00' }, explanation: 'matrix' };
  const signed = await signDraft(s.taikang, { transferId, submissionId: submitted.submissionId, envelope: received.envelope }, draft);
  await submitSignedDecision(s.taikang, signed.decisionId, signed.jws);
  fixtures = {
    patientNationalId: record.patient.nationalId,
    consentId,
    revocableConsentId,
    submissionId: submitted.submissionId,
    transferId,
    decisionJws: signed.jws,
  };
});

afterAll(async () => {
  for (const clients of toClose) clients.close();
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

/**
 * Calls `method` generically (any service, through one channel) and answers with the status the caller
 * got: the call's status, or — for a request stream, whose single request is answered per item — the
 * item's status when the call itself ended OK.
 */
function callStatus(client: Client, method: MethodDefinition, request: object): Promise<Code> {
  const message = { ...method.requestDeserialize(Buffer.alloc(0)), ...request };
  const serialize = (value: unknown) => method.requestSerialize(value);
  const deadline = Date.now() + 30_000; // a safety net against a hang, not an assertion
  const codeOf = (error: ServiceError | null): Code => status[error ? error.code : status.OK] as Code;
  return new Promise((resolve) => {
    if (method.requestStream) {
      const call = client.makeBidiStreamRequest(method.path, serialize, method.responseDeserialize, { deadline });
      let item: Code | undefined;
      call.on('data', (response: { refused?: { code: number } }) => {
        item ??= response.refused ? (status[response.refused.code] as Code) : 'OK';
      });
      call.on('error', (error: ServiceError) => resolve(codeOf(error)));
      call.on('end', () => resolve(item ?? 'OK'));
      call.write(message);
      call.end();
    } else if (method.responseStream) {
      const stream = client.makeServerStreamRequest(method.path, serialize, method.responseDeserialize, message, { deadline });
      stream.on('data', () => {});
      stream.on('error', (error: ServiceError) => resolve(codeOf(error)));
      stream.on('end', () => resolve('OK'));
    } else {
      // A batch call (one item here) ends OK and answers per item: the cell is that item's status.
      const itemOf = (response: unknown): Code => {
        const refused = (response as { results?: Array<{ refused?: { code: number } }> } | undefined)?.results?.[0]?.refused;
        return refused ? (status[refused.code] as Code) : 'OK';
      };
      client.makeUnaryRequest(method.path, serialize, method.responseDeserialize, message, { deadline }, (error, response) =>
        resolve(error ? codeOf(error) : itemOf(response)),
      );
    }
  });
}

describe('authorization matrix', () => {
  it('has a row for every RPC of the generated service definitions, and none for an RPC that does not exist', () => {
    expect(methods.length).toBeGreaterThan(0);
    expect(methods.map((m) => m.path).sort()).toEqual(Object.keys(MATRIX).sort());
  });

  for (const [path, entry] of Object.entries(MATRIX)) {
    it(`${path}: the exact status for every kind of caller`, async () => {
      const method = methods.find((m) => m.path === path);
      expect(method, `${path} is not in the generated definitions`).toBeDefined();
      const seen: Partial<Record<Caller, Code>> = {};
      for (const caller of CALLERS) seen[caller] = await callStatus(clientsOf.get(caller)!, method!, entry.request(fixtures));
      expect(seen).toEqual(entry.expected);
    });
  }
});
