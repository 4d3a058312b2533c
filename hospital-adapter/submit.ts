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
import type { SubmitRecordResponse } from '../proto/gen/hdx/v1/records.js';
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

/**
 * The idempotency key of a bundle: a hash of its identifier (or id) and version, so resubmitting the
 * same record is recognised while a corrected version (new meta.versionId) is a new submission.
 */
export function idempotencyKeyOf(bytes: Uint8Array): string {
  let identity = '';
  try {
    const bundle = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
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
): Promise<SubmitRecordResponse> {
  const idempotencyKey = idempotencyKeyOf(bytes);
  const signature = await signSubmission(
    {
      iss: session.identity.party.uri,
      aud: session.gatewayUri,
      jti: idempotencyKey,
      hdx: { bundleDigest: bundleDigestOf(bytes), purpose: purposeName },
    },
    session.identity.signingKey,
  );
  const request = {
    idempotencyKey,
    bundle: Buffer.from(bytes),
    purpose: PURPOSE_BY_NAME[purposeName] ?? Purpose.PURPOSE_UNSPECIFIED,
    signature,
  };
  return retryUnavailable(() => unaryCall(session.clients.records, session.clients.records.submitRecord, request), retry);
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
