/**
 * Worker-thread side of the sealing pool: loads profiles and the signing key once per thread, and seals
 * a batch of tasks per message (`sealer.ts`). The JWEs go back as moved buffers; a failed task is
 * reported in its place, so the rest of the batch stands.
 */
import { workerData } from 'node:worker_threads';
import type { JWK } from 'jose';
import { Piscina } from 'piscina';
import { createDeidentifier } from '../deid/index.js';
import { nameThisThread } from '../thread-name.js';
import { runSealTask, type SealResult, type SealTask } from './seal-task.js';
import { toThread } from './thread-errors.js';

nameThisThread('hdx-seal');
const { signingJwk, profilesDir } = workerData as { signingJwk: JWK; profilesDir?: string };
const deidentifier = createDeidentifier(profilesDir ? { profilesDir } : {});

/** What crosses to a worker: each distinct bundle once, and tasks naming theirs by index. */
export interface SealBatch {
  bundles: Uint8Array[];
  tasks: Array<Omit<SealTask, 'bundle'> & { bundleIndex: number }>;
}

/** What comes back, one per task in order: the result with the JWE as bytes, or the task's error. */
export type SealOutcome =
  | { ok: true; result: Omit<SealResult, 'payload'> & { payload: Uint8Array } }
  | { ok: false; error: unknown };

export default async function sealBatch(batch: SealBatch) {
  const outcomes: SealOutcome[] = [];
  for (const { bundleIndex, ...task } of batch.tasks) {
    try {
      const result = await runSealTask({ ...task, bundle: batch.bundles[bundleIndex]! }, deidentifier, signingJwk);
      // A compact JWE is ASCII: latin1 is its bytes, one byte per character.
      outcomes.push({ ok: true, result: { ...result, payload: ownBuffer(Buffer.from(result.payload, 'latin1')) } });
    } catch (error) {
      // A coded error goes back as data: a structured clone would lose its class and code.
      outcomes.push({ ok: false, error: toThread(error) });
    }
  }
  const buffers = outcomes.flatMap((o) => (o.ok ? [o.result.payload.buffer as ArrayBuffer] : []));
  const moved = {
    get [Piscina.transferableSymbol]() {
      return buffers;
    },
    get [Piscina.valueSymbol]() {
      return outcomes;
    },
  };
  return Piscina.move(moved as unknown as Parameters<typeof Piscina.move>[0]);
}

/** A view that spans its whole buffer can be moved as is; a slice of Node's pool is copied out first. */
function ownBuffer(bytes: Buffer): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? new Uint8Array(bytes.buffer, 0, bytes.byteLength) : new Uint8Array(bytes);
}
