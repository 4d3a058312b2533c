/**
 * Evidence for one transfer, verified offline — no gateway, nothing taken on its word. Named steps:
 *
 *   parse → checkpointSignature → inclusion → hopEvents → envelopeSignature → submissionSignature
 *         → receiptSignature → eventsMatch
 *
 * The checkpoint must be signed by the officer's configured log key, every event must be included under
 * it, the three signatures (hospital's submission, gateway's envelope, insurer's receipt) must verify
 * against keys valid when the log recorded each hop, and the logged events must name the same transfer,
 * submission, consent, parties and digests as the signed objects. Keys come from the officer's own copy
 * of the party registry when given; otherwise from the file, and the report says so.
 */
import { readFileSync } from 'node:fs';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { digestOf } from '../keys/canonical.js';
import { verifyReceipt, type ReceiptClaims } from '../keys/formats/receipt.js';
import { verifySubmission, type SubmissionClaims } from '../keys/formats/submission.js';
import { verifyTransferEnvelopeSignature, type TransferEnvelopeClaims } from '../keys/formats/transfer-envelope.js';
import { parsePartyUri, type Role } from '../keys/identity.js';
import { loadRegistry, PartyDirectory } from '../keys/registry.js';
import { leafHash, parseVerifierKey, verifyCheckpoint, verifyInclusion, type Checkpoint } from '../keys/transparency/index.js';
import { unaryCall } from '../proto/connect.js';
import { loggedEventFrom, type LoggedEvent } from './audit-event.js';
import { parseEvidenceFile, type EvidenceFile, type EvidenceParty } from './evidence-file.js';
import type { ComplianceSession } from './session.js';

export const EVIDENCE_STEPS = [
  'parse',
  'checkpoint signature',
  'inclusion',
  'hop events',
  'envelope signature',
  'submission signature',
  'receipt signature',
  'events match',
] as const;
export type EvidenceStep = (typeof EVIDENCE_STEPS)[number];

export interface EvidenceTrust {
  /** The officer's C2SP verifier key for the log. Without it, the key inside the file is used. */
  logVerifierKey?: string;
  /** The officer's copy of the party registry (path). Without it, the keys inside the file are used. */
  registryPath?: string;
}

export interface EvidenceReport {
  ok: boolean;
  transferId: string;
  /** What was proved, in order. */
  proved: string[];
  /** The failing step and why. */
  step?: EvidenceStep;
  failure?: string;
  /** Where the keys came from: the officer's own configuration, or the file under examination. */
  trust: { logKey: 'configured' | 'evidence file'; partyKeys: 'registry' | 'evidence file' };
}

class StepFailure extends Error {
  constructor(readonly step: EvidenceStep, message: string, options?: { cause?: unknown }) {
    super(`${step}: ${message}`, options);
  }
}

/** Fetches a transfer's evidence file from the gateway (`GetEvidence`). */
export async function fetchEvidence(session: ComplianceSession, transferId: string): Promise<string> {
  const { evidenceJson } = await unaryCall(session.clients.audit, session.clients.audit.getEvidence, { transferId });
  return evidenceJson;
}

export function checkEvidenceFile(path: string, trust: EvidenceTrust = {}): Promise<EvidenceReport> {
  return checkEvidence(readFileSync(path, 'utf8'), trust);
}

/** The events of one transfer's hops, as proven included in the log. */
interface Hops {
  submit: LoggedEvent;
  create: LoggedEvent;
  delivers: LoggedEvent[];
  acknowledge?: LoggedEvent;
  all: LoggedEvent[];
}

export async function checkEvidence(text: string, trust: EvidenceTrust = {}): Promise<EvidenceReport> {
  const proved: string[] = [];
  const report = (extra: Partial<EvidenceReport>): EvidenceReport => ({
    ok: false,
    transferId: '',
    proved,
    trust: { logKey: trust.logVerifierKey ? 'configured' : 'evidence file', partyKeys: trust.registryPath ? 'registry' : 'evidence file' },
    ...extra,
  });
  // The officer's registry is configuration, not evidence: a broken one is an error, not a failed step.
  const directory = trust.registryPath ? new PartyDirectory(loadRegistry(trust.registryPath)) : undefined;
  let transferId = '';
  try {
    const file = step('parse', () => parseEvidenceFile(text));
    transferId = file.transferId;
    const keys = partyKeys(file, directory);
    const checkpoint = step('checkpoint signature', () => checkpointSignature(file, trust.logVerifierKey));
    proved.push(`checkpoint for ${checkpoint.origin} at size ${checkpoint.size} is signed by ${trust.logVerifierKey ? 'the configured log key' : 'the log key inside the file'}`);
    const events = step('inclusion', () => inclusion(file, checkpoint));
    proved.push(`all ${events.length} events are included under the signed root`);
    const hops = step('hop events', () => hopEvents(file, events));
    proved.push('the log holds the transfer’s submission and creation events');
    const envelope = await stepAsync('envelope signature', () => envelopeSignature(file, keys, hops));
    proved.push(`the envelope is signed by the gateway ${envelope.iss}`);
    const submission = await stepAsync('submission signature', () => submissionSignature(file, keys, hops, envelope));
    proved.push(`the submission is signed by the hospital ${envelope.hdx.hospital}`);
    const receipt = await stepAsync('receipt signature', () => receiptSignature(file, keys, hops, envelope));
    proved.push(receipt ? `the receipt over the envelope is signed by the insurer ${envelope.aud}` : 'no receipt: the transfer was not acknowledged');
    step('events match', () => eventsMatch(file, hops, envelope, submission, receipt));
    proved.push('the events name the same transfer, submission, consent, parties and digests as the signatures');
    return report({ ok: true, transferId });
  } catch (error) {
    if (!(error instanceof StepFailure)) throw error;
    return report({ transferId, step: error.step, failure: error.message });
  }
}

function step<T>(name: EvidenceStep, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StepFailure) throw error;
    throw new StepFailure(name, (error as Error).message, { cause: error });
  }
}

async function stepAsync<T>(name: EvidenceStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StepFailure) throw error;
    throw new StepFailure(name, (error as Error).message, { cause: error });
  }
}

// ── keys ────────────────────────────────────────────────────────────────────────────────────────

interface PartyKeys {
  /** The signing JWKS of the party with this URI and role, valid at `at`. */
  jwks(uri: string, role: Role, at: Date): JSONWebKeySet;
}

function partyKeys(file: EvidenceFile, directory?: PartyDirectory): PartyKeys {
  if (directory) {
    return {
      jwks(uri, role, at) {
        const party = directory.byUri(uri);
        if (!party || party.role !== role) throw new Error(`${uri} is not a ${role} in the registry`);
        return directory.jwks(party.id, 'sig', at);
      },
    };
  }
  return {
    jwks(uri, role) {
      const entry: EvidenceParty | undefined =
        role === 'gateway' ? file.parties.gateway : role === 'hospital' ? file.parties.hospital : file.parties.insurer;
      if (!entry) throw new Error(`the file holds no keys for the ${role}`);
      if (entry.uri !== uri) throw new Error(`the file’s ${role} keys are for another party`);
      return entry.jwks;
    },
  };
}

// ── steps ───────────────────────────────────────────────────────────────────────────────────────

function checkpointSignature(file: EvidenceFile, configured?: string): Checkpoint {
  const key = configured ?? file.logVerifierKey;
  if (!key) throw new Error('no log key: pass --log-key');
  const verifier = parseVerifierKey(key);
  // The key's name is the log's origin (`<trust domain>/audit/v1`).
  return verifyCheckpoint(file.checkpoint, verifier, verifier.name);
}

function inclusion(file: EvidenceFile, cp: Checkpoint): LoggedEvent[] {
  const seen = new Set<number>();
  return file.events.map((entry) => {
    if (seen.has(entry.seq)) throw new Error(`event ${entry.seq} appears twice`);
    seen.add(entry.seq);
    if (entry.seq >= cp.size) throw new Error(`event ${entry.seq} is beyond the checkpoint’s size ${cp.size}`);
    try {
      verifyInclusion(entry.seq, cp.size, leafHash(Buffer.from(entry.event, 'utf8')), entry.proof.map((h) => Buffer.from(h, 'base64')), cp.rootHash);
    } catch (cause) {
      throw new StepFailure('inclusion', `event ${entry.seq} is not included under the signed root`, { cause });
    }
    let event: LoggedEvent;
    try {
      event = loggedEventFrom(JSON.parse(entry.event));
    } catch (cause) {
      throw new StepFailure('inclusion', `event ${entry.seq} is malformed`, { cause });
    }
    if (event.seq !== entry.seq) throw new Error(`event ${entry.seq} claims another position`);
    return event;
  });
}

function hopEvents(file: EvidenceFile, events: LoggedEvent[]): Hops {
  const creates = events.filter((e) => e.action === 'transfer.create' && e.transfer === file.transferId);
  if (creates.length !== 1) throw new Error(`expected one transfer.create event for ${file.transferId}, found ${creates.length}`);
  const create = creates[0]!;
  const submits = events.filter((e) => e.action === 'record.submit' && e.submission === create.submission);
  if (submits.length !== 1) throw new Error(`expected one record.submit event for the transfer’s submission, found ${submits.length}`);
  const acknowledges = events.filter((e) => e.action === 'transfer.acknowledge');
  if (acknowledges.length > 1) throw new Error('more than one transfer.acknowledge event');
  return {
    submit: submits[0]!,
    create,
    delivers: events.filter((e) => e.action === 'transfer.deliver'),
    ...(acknowledges[0] ? { acknowledge: acknowledges[0] } : {}),
    all: events,
  };
}

async function envelopeSignature(file: EvidenceFile, keys: PartyKeys, hops: Hops): Promise<TransferEnvelopeClaims> {
  let iss: unknown;
  let aud: unknown;
  try {
    ({ iss, aud } = decodeJwt(file.envelope));
  } catch (cause) {
    throw new StepFailure('envelope signature', 'the envelope is not a JWT', { cause });
  }
  if (typeof iss !== 'string' || typeof aud !== 'string') throw new Error('the envelope names no issuer or audience');
  const jwks = keys.jwks(iss, 'gateway', new Date(hops.create.at));
  return verifyTransferEnvelopeSignature(file.envelope, jwks, { audience: aud, issuer: iss });
}

async function submissionSignature(file: EvidenceFile, keys: PartyKeys, hops: Hops, envelope: TransferEnvelopeClaims): Promise<SubmissionClaims> {
  if (!file.submission.signature) throw new Error('the submission is not signed');
  const jwks = keys.jwks(envelope.hdx.hospital, 'hospital', new Date(hops.submit.at));
  return verifySubmission(file.submission.signature, jwks, { audience: envelope.iss, issuer: envelope.hdx.hospital });
}

async function receiptSignature(
  file: EvidenceFile,
  keys: PartyKeys,
  hops: Hops,
  envelope: TransferEnvelopeClaims,
): Promise<ReceiptClaims | undefined> {
  if (!file.receipt) {
    if (hops.acknowledge) throw new Error('the log records an acknowledgement but the file holds no receipt');
    return undefined;
  }
  if (!hops.acknowledge) throw new Error('the file holds a receipt but the log records no acknowledgement');
  const jwks = keys.jwks(envelope.aud, 'insurer', new Date(hops.acknowledge.at));
  const claims = await verifyReceipt(file.receipt, jwks, { audience: envelope.iss, issuer: envelope.aud, envelope: file.envelope });
  if (claims.jti !== file.transferId) throw new Error('the receipt names another transfer');
  return claims;
}

function eventsMatch(
  file: EvidenceFile,
  hops: Hops,
  envelope: TransferEnvelopeClaims,
  submission: SubmissionClaims,
  receipt: ReceiptClaims | undefined,
): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };
  const hospitalId = parsePartyUri(envelope.hdx.hospital).id;
  const insurerId = parsePartyUri(envelope.aud).id;
  const envelopeDigest = digestOf(file.envelope);
  const { submit, create } = hops;

  need(envelope.jti === file.transferId, 'the envelope is for another transfer');
  need(create.transfer === envelope.jti, 'transfer.create names another transfer than the envelope');
  need(create.submission === envelope.hdx.submission, 'transfer.create names another submission than the envelope');
  need(create.consent === envelope.hdx.consent, 'transfer.create names another consent than the envelope');
  need(create.details['envelopeDigest'] === envelopeDigest, 'transfer.create logged another envelope digest');
  need(create.details['payloadDigest'] === envelope.hdx.payloadDigest, 'transfer.create logged another payload digest than the envelope signs');
  need(create.details['pseudonym'] === envelope.sub, 'transfer.create logged another pseudonym than the envelope');
  need(create.parties.includes(hospitalId) && create.parties.includes(insurerId), 'transfer.create names other parties than the envelope');

  need(submit.submission === envelope.hdx.submission, 'record.submit names another submission');
  need(submit.actor === hospitalId, 'record.submit was made by another hospital than the envelope names');
  need(submit.parties.includes(insurerId), 'record.submit does not name the insurer');
  need(submit.details['bundleDigest'] === envelope.hdx.submissionDigest, 'record.submit logged another bundle digest than the envelope');
  need(submission.hdx.bundleDigest === envelope.hdx.submissionDigest, 'the hospital signed another bundle digest than the envelope names');
  need(file.submission.bundleDigest === undefined || file.submission.bundleDigest === submission.hdx.bundleDigest, 'the file’s bundle digest differs from the signed one');
  need(submit.details['purpose'] === envelope.hdx.purpose && submission.hdx.purpose === envelope.hdx.purpose, 'the purposes differ');
  need(submit.patient === undefined || create.patient === undefined || submit.patient === create.patient, 'record.submit and transfer.create name different patients');

  for (const d of hops.delivers) {
    need(d.actor === insurerId, `transfer.deliver event ${d.seq} was pulled by another party than the envelope’s audience`);
    need(d.details['envelopeDigest'] === envelopeDigest, `transfer.deliver event ${d.seq} logged another envelope digest`);
  }
  if (hops.acknowledge) {
    const ack = hops.acknowledge;
    need(ack.actor === insurerId, 'transfer.acknowledge was made by another party than the envelope’s audience');
    need(ack.details['envelopeDigest'] === envelopeDigest, 'transfer.acknowledge logged another envelope digest');
    need(receipt !== undefined && ack.details['receiptDigest'] === digestOf(file.receipt ?? ''), 'transfer.acknowledge logged another receipt digest');
  }
  for (const e of hops.all) {
    const aboutTransfer = e.transfer === file.transferId;
    const isTheSubmit = e === submit;
    need(aboutTransfer || isTheSubmit, `event ${e.seq} is about another transfer`);
  }
}
