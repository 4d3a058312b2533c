/**
 * The load of the crash and failover runs: submitters that each grant a consent and submit its record, over
 * and over, until stopped. What the gateway acknowledged is kept (submission → its transfers); a call whose
 * retry budget ran out is not acknowledged, so it is counted by reason, not as a loss.
 */
import { grantConsent } from '../../hospital-adapter/consent.js';
import type { HospitalSession } from '../../hospital-adapter/session.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { describeError } from '../../proto/errors.js';
import { createGenerator } from '../../synthetic/index.js';
import { terms } from './harness.js';

export interface SubmitLoad {
  readonly acknowledged: Map<string, string[]>;
  readonly notAcknowledged: Map<string, number>;
  /** Lets each submitter finish its call in flight, then resolves. */
  stop(): Promise<void>;
}

export function startSubmitting(hospital: HospitalSession, options: { submitters: number; seed: number }): SubmitLoad {
  const generator = createGenerator(options.seed);
  const acknowledged = new Map<string, string[]>();
  const notAcknowledged = new Map<string, number>();
  let submitting = true;
  const submitter = async () => {
    while (submitting) {
      const record = generator.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
      try {
        await grantConsent(hospital, {
          idempotencyKey: `grant-${record.patient.nationalId}`,
          patientNationalId: record.patient.nationalId,
          terms: terms({ insurerId: 'taikang-online' }),
        });
        const response = await submitBundle(hospital, Buffer.from(JSON.stringify(record.bundle)));
        acknowledged.set(response.submissionId, response.transfers.map((t) => t.transferId));
      } catch (error) {
        const reason = describeError(error).split(':')[0]!;
        notAcknowledged.set(reason, (notAcknowledged.get(reason) ?? 0) + 1);
      }
    }
  };
  const submitters = Array.from({ length: options.submitters }, submitter);
  return {
    acknowledged,
    notAcknowledged,
    async stop() {
      submitting = false;
      await Promise.allSettled(submitters);
    },
  };
}
