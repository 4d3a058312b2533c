/**
 * Submitting discharge records. Each bundle is signed (the hospital's JWS over its digest, the first
 * link of the evidence chain) and sent with an idempotency key derived from the bundle's own identity,
 * so a retry after a timeout or a crash never creates a second transfer.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { bundleDigestOf, signSubmission } from '../keys/formats/submission.js';
import { Purpose } from '../proto/gen/hdx/v1/common.js';
import type { SubmitRecordRequest, SubmitRecordResponse, SubmitRecordsResponse } from '../proto/gen/hdx/v1/records.js';
import { status } from '@grpc/grpc-js';
import { retryUnavailable, unaryCall, type RetryOptions } from '../proto/connect.js';
import { describeError, statusName } from '../proto/errors.js';
import type { HospitalSession } from './session.js';

export const PURPOSE_BY_NAME: Record<string, Purpose> = {
  DIRECT_SETTLEMENT: Purpose.PURPOSE_DIRECT_SETTLEMENT,
  CLAIM: Purpose.PURPOSE_CLAIM,
  STATISTICS: Purpose.PURPOSE_STATISTICS,
};

export type SubmitOutcome =
  | { file: string; ok: true; response: SubmitRecordResponse }
  | { file: string; ok: false; status: string; message: string };

/** `bytes` as a Buffer without copying them (a 19 KB bundle was copied twice per submission). */
const bufferView = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/**
 * The idempotency key of a bundle: a hash of its identifier (or id) and version, so resubmitting the
 * same record is recognised while a corrected version (new meta.versionId) is a new submission.
 */
export function idempotencyKeyOf(bytes: Uint8Array): string {
  let identity = '';
  try {
    const bundle = JSON.parse(bufferView(bytes).toString('utf8')) as {
      id?: unknown;
      identifier?: { system?: unknown; value?: unknown };
      meta?: { versionId?: unknown };
    };
    const id = bundle.identifier?.value ? `${bundle.identifier.system ?? ''}|${bundle.identifier.value}` : bundle.id;
    if (typeof id === 'string' && id) identity = `${id}#${bundle.meta?.versionId ?? ''}`;
  } catch {
    // Not JSON: the gateway will say so; key by content.
  }
  const basis = identity || bundleDigestOf(bytes);
  return `bundle-${createHash('sha256').update(basis).digest('base64url').slice(0, 32)}`;
}

export async function submitBundle(
  session: HospitalSession,
  bytes: Uint8Array,
  purposeName: keyof typeof PURPOSE_BY_NAME = 'DIRECT_SETTLEMENT',
  /** While the gateway answers UNAVAILABLE (at capacity, restarting), retry with backoff this long. */
  retry: RetryOptions = {},
  /** The bundle's idempotency key and digest when the caller has them already (each a parse or a hash less). */
  known?: KnownBundle,
): Promise<SubmitRecordResponse> {
  const request = await submissionRequest(session, bytes, purposeName, known);
  return retryUnavailable(() => unaryCall(session.clients.records, session.clients.records.submitRecord, request), retry);
}

/** What `idempotencyKeyOf` and `bundleDigestOf` give for the bytes submitted. */
export interface KnownBundle {
  idempotencyKey: string;
  bundleDigest: string;
}

/** The signed request for one bundle: the same for `SubmitRecord` and each item of `SubmitRecords`. */
export async function submissionRequest(
  session: HospitalSession,
  bytes: Uint8Array,
  purposeName: keyof typeof PURPOSE_BY_NAME,
  known?: KnownBundle,
): Promise<SubmitRecordRequest> {
  const idempotencyKey = known?.idempotencyKey ?? idempotencyKeyOf(bytes);
  const signature = await signSubmission(
    {
      iss: session.identity.party.uri,
      aud: session.gatewayUri,
      jti: idempotencyKey,
      hdx: { bundleDigest: known?.bundleDigest ?? bundleDigestOf(bytes), purpose: purposeName },
    },
    session.identity.signingKey,
  );
  const request = {
    idempotencyKey,
    bundle: bufferView(bytes),
    purpose: PURPOSE_BY_NAME[purposeName] ?? Purpose.PURPOSE_UNSPECIFIED,
    signature,
  };
  return request;
}

/** Expands files and folders (their *.json files, sorted) into a list of bundle files. */
export function bundleFiles(paths: string[]): string[] {
  return paths.flatMap((path) =>
    statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => extname(name) === '.json')
          .sort()
          .map((name) => join(path, name))
      : [path],
  );
}

/** Submits files with bounded concurrency; one failure never stops the others. */
export async function submitFiles(
  session: HospitalSession,
  files: string[],
  options: { purpose?: string; concurrency?: number; onOutcome?: (o: SubmitOutcome) => void } = {},
): Promise<SubmitOutcome[]> {
  const purpose = options.purpose ?? 'DIRECT_SETTLEMENT';
  if (!(purpose in PURPOSE_BY_NAME)) throw new Error(`unknown purpose; use one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`);
  const outcomes: SubmitOutcome[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      let outcome: SubmitOutcome;
      try {
        const response = await submitBundle(session, readFileSync(file), purpose);
        outcome = { file, ok: true, response };
      } catch (error) {
        outcome = { file, ok: false, status: statusName(error) ?? 'ERROR', message: describeError(error) };
      }
      outcomes[index] = outcome;
      options.onOutcome?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return outcomes;
}

/** Items answered UNAVAILABLE (gateway at capacity) are sent again this many times, after its pushback. */
const STREAM_ITEM_RETRIES = 8;
const MIN_PUSHBACK_MS = 50;

/**
 * Submits many bundles over one `SubmitRecords` stream, at most `window` unanswered at a time. Each
 * outcome is what `submitBundle` would give for that file (the gateway runs the single-record path per
 * item); an item refused as UNAVAILABLE is sent again after the gateway's pushback. If the stream itself
 * fails, every file not yet answered gets that status (a rerun is safe: idempotency keys).
 */
export async function submitFilesStreamed(
  session: HospitalSession,
  files: string[],
  options: { purpose?: string; window?: number; concurrency?: number; onOutcome?: (o: SubmitOutcome) => void } = {},
): Promise<SubmitOutcome[]> {
  const purpose = options.purpose ?? 'DIRECT_SETTLEMENT';
  if (!(purpose in PURPOSE_BY_NAME)) throw new Error(`unknown purpose; use one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`);
  const outcomes: SubmitOutcome[] = new Array(files.length);
  if (files.length === 0) return outcomes;
  const window = Math.max(1, options.window ?? 64);
  const call = session.clients.records.submitRecords();
  const requests = new Map<number, SubmitRecordRequest>();
  const attempts = new Map<number, number>();
  let next = 0;
  let answered = 0;
  let unanswered = 0;
  const settle = (index: number, outcome: SubmitOutcome) => {
    if (outcomes[index]) return;
    outcomes[index] = outcome;
    requests.delete(index);
    answered += 1;
    unanswered -= 1;
    options.onOutcome?.(outcome);
  };
  const sendMore = async () => {
    while (unanswered < window && next < files.length) {
      const index = next++;
      unanswered += 1;
      const request = await submissionRequest(session, readFileSync(files[index]!), purpose);
      requests.set(index, request);
      call.write({ sequence: index, record: request });
    }
    if (answered === files.length) call.end();
  };
  await new Promise<void>((resolve) => {
    const fail = (error: unknown) => {
      for (let i = 0; i < files.length; i++) {
        if (!outcomes[i]) {
          if (i >= next) unanswered += 1;
          settle(i, { file: files[i]!, ok: false, status: statusName(error) ?? 'ERROR', message: describeError(error) });
        }
      }
      resolve();
    };
    call.on('data', (response: SubmitRecordsResponse) => {
      const index = response.sequence;
      const file = files[index];
      if (file === undefined || outcomes[index]) return;
      if (response.accepted) settle(index, { file, ok: true, response: response.accepted });
      else {
        const refused = response.refused ?? { code: status.UNKNOWN, message: 'no outcome', retryAfterMs: 0 };
        const tries = attempts.get(index) ?? 0;
        const request = requests.get(index);
        if (refused.code === status.UNAVAILABLE && tries < STREAM_ITEM_RETRIES && request) {
          attempts.set(index, tries + 1);
          const wait = Math.max(MIN_PUSHBACK_MS, refused.retryAfterMs) * (1 + Math.random() * 0.2);
          setTimeout(() => {
            if (!call.writableEnded) call.write({ sequence: index, record: request });
          }, wait);
          return;
        }
        settle(index, { file, ok: false, status: status[refused.code] ?? String(refused.code), message: `${status[refused.code]}: ${refused.message}` });
      }
      sendMore().catch(fail);
    });
    call.on('error', fail);
    call.on('end', () => (answered === files.length ? resolve() : fail(new Error('the gateway ended the stream early'))));
    sendMore().catch(fail);
  });
  return outcomes;
}
