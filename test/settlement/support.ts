/** Helpers the settlement suites share: consented submissions, receiving one transfer, statuses. */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { expect } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import type { HospitalSession } from '../../hospital-adapter/session.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import type { Received } from '../../insurer-adapter/receive.js';
import type { InsurerSession } from '../../insurer-adapter/session.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import type { SubmitRecordResponse } from '../../proto/gen/hdx/v1/records.js';
import { createGenerator, type EncounterClass, type SyntheticRecord } from '../../synthetic/index.js';
import { idem, terms } from '../support/harness.js';

export type InsurerId = 'taikang-online' | 'pingan-health';

export function recordMaker(seed: number) {
  const gen = createGenerator(seed);
  return (hospitalId: string, encounterClass?: EncounterClass): SyntheticRecord =>
    gen.dischargeRecord({
      hospitalId,
      dischargeDate: new Date(Date.now() - 86_400_000),
      ...(encounterClass && { encounterClass }),
    });
}

/** Grants the patient's consent for `insurerId`, then submits the record; returns the gateway's answer. */
export async function consentAndSubmit(
  hospital: HospitalSession,
  r: SyntheticRecord,
  insurerId: InsurerId,
  purpose: 'DIRECT_SETTLEMENT' | 'CLAIM' = 'DIRECT_SETTLEMENT',
): Promise<SubmitRecordResponse> {
  await grantConsent(hospital, {
    idempotencyKey: idem('grant'),
    patientNationalId: r.patient.nationalId,
    terms: terms({
      insurerId,
      hospitalIds: [hospital.identity.party.id],
      purpose: purpose === 'CLAIM' ? Purpose.PURPOSE_CLAIM : Purpose.PURPOSE_DIRECT_SETTLEMENT,
    }),
  });
  return submitBundle(hospital, Buffer.from(JSON.stringify(r.bundle)), purpose);
}

/** Pulls (and acknowledges) what is ready for the insurer; returns the one transfer asked for. */
export async function receive(insurer: InsurerSession, outDir: string, transferId: string): Promise<Received> {
  const outcomes = await pullTransfers(insurer, { outDir: join(outDir, insurer.identity.party.id) });
  const mine = outcomes.find((o) => o.transferId === transferId);
  if (!mine) throw new Error('transfer not delivered');
  if (!mine.ok) throw new Error(mine.reason);
  return mine.received;
}

export async function expectStatus(promise: Promise<unknown>, code: status, message?: RegExp) {
  const error = (await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as { code: number; details: string };
  expect(status[error.code], error.details).toBe(status[code]);
  if (message) expect(error.details).toMatch(message);
  return error;
}
