/**
 * The evidence file (`hdx-evidence/v1`) as the gateway assembles it for one transfer, parsed as
 * untrusted input: the signed checkpoint, the three hop signatures (the hospital's submission, the
 * gateway's envelope, the insurer's receipt), the public keys the gateway says verify them, and the
 * audit events of the transfer with their inclusion proofs. Errors name the field, never a value.
 */
import type { JSONWebKeySet } from 'jose';
import { isPlainObject } from '../keys/json-guard.js';
import { EvidenceMalformed } from './errors.js';

export { EvidenceMalformed };

export const EVIDENCE_FORMAT = 'hdx-evidence/v1';
/** Larger files are refused before parsing. */
export const MAX_EVIDENCE_BYTES = 16 * 1024 * 1024;
const MAX_EVENTS = 10_000;
const MAX_PROOF = 64;
const BASE64_HASH = /^[A-Za-z0-9+/]{43}=$/;

export interface EvidenceParty {
  uri: string;
  jwks: JSONWebKeySet;
}

export interface EvidenceEvent {
  seq: number;
  /** The event's canonical JSON, exactly as logged. */
  event: string;
  /** Inclusion proof against the file's checkpoint: base64 hashes. */
  proof: string[];
}

export interface EvidenceFile {
  format: typeof EVIDENCE_FORMAT;
  transferId: string;
  /** The signed checkpoint note all proofs refer to. */
  checkpoint: string;
  /** The log key the gateway names; trusted only when the checker has none of its own. */
  logVerifierKey?: string;
  parties: { gateway?: EvidenceParty; hospital?: EvidenceParty; insurer?: EvidenceParty };
  submission: { signature: string | null; bundleDigest?: string };
  envelope: string;
  receipt: string | null;
  events: EvidenceEvent[];
}

const fail = (message: string) => new EvidenceMalformed(message);

function str(value: unknown, path: string, max = 64 * 1024): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw fail(`${path} must be a non-empty string`);
  return value;
}

function obj(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw fail(`${path} must be an object`);
  return value;
}

function party(value: unknown, path: string): EvidenceParty | undefined {
  if (value === undefined || value === null) return undefined;
  const p = obj(value, path);
  const jwks = obj(p['jwks'], `${path}.jwks`);
  if (!Array.isArray(jwks['keys']) || jwks['keys'].length > 100 || !jwks['keys'].every(isPlainObject)) {
    throw fail(`${path}.jwks.keys must be an array of keys`);
  }
  return { uri: str(p['uri'], `${path}.uri`, 300), jwks: jwks as unknown as JSONWebKeySet };
}

function event(value: unknown, i: number): EvidenceEvent {
  const path = `events[${i}]`;
  const e = obj(value, path);
  const seq = e['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw fail(`${path}.seq must be a non-negative integer`);
  const proof = e['proof'];
  if (!Array.isArray(proof) || proof.length > MAX_PROOF) throw fail(`${path}.proof must be an array of hashes`);
  proof.forEach((h, j) => {
    if (typeof h !== 'string' || !BASE64_HASH.test(h)) throw fail(`${path}.proof[${j}] must be a base64 SHA-256 hash`);
  });
  return { seq, event: str(e['event'], `${path}.event`), proof: proof as string[] };
}

/** Parses an evidence file's text. Throws `EvidenceMalformed`. */
export function parseEvidenceFile(text: string): EvidenceFile {
  if (typeof text !== 'string') throw new TypeError('evidence must be text');
  if (text.length > MAX_EVIDENCE_BYTES) throw fail('evidence file is too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new EvidenceMalformed('evidence file is not JSON', { cause });
  }
  const top = obj(json, 'evidence');
  if (top['format'] !== EVIDENCE_FORMAT) throw fail(`evidence format is not ${EVIDENCE_FORMAT}`);
  const parties = top['parties'] === undefined ? {} : obj(top['parties'], 'parties');
  const submission = obj(top['submission'], 'submission');
  const events = top['events'];
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS) throw fail('events must be a non-empty array');
  const gateway = party(parties['gateway'], 'parties.gateway');
  const hospital = party(parties['hospital'], 'parties.hospital');
  const insurer = party(parties['insurer'], 'parties.insurer');
  return {
    format: EVIDENCE_FORMAT,
    transferId: str(top['transferId'], 'transferId', 200),
    checkpoint: str(top['checkpoint'], 'checkpoint'),
    ...(top['logVerifierKey'] !== undefined ? { logVerifierKey: str(top['logVerifierKey'], 'logVerifierKey', 1000) } : {}),
    parties: { ...(gateway && { gateway }), ...(hospital && { hospital }), ...(insurer && { insurer }) },
    submission: {
      signature: submission['signature'] === null || submission['signature'] === undefined ? null : str(submission['signature'], 'submission.signature'),
      ...(submission['bundleDigest'] !== undefined ? { bundleDigest: str(submission['bundleDigest'], 'submission.bundleDigest', 200) } : {}),
    },
    envelope: str(top['envelope'], 'envelope'),
    receipt: top['receipt'] === null || top['receipt'] === undefined ? null : str(top['receipt'], 'receipt'),
    events: events.map(event),
  };
}
