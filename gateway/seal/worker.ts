/** Worker-thread side of the sealing pool: loads profiles and the signing key once per thread. */
import { workerData } from 'node:worker_threads';
import type { JWK } from 'jose';
import { createDeidentifier } from '../deid/index.js';
import { runSealTask, type SealTask } from './seal-task.js';

const { signingJwk, profilesDir } = workerData as { signingJwk: JWK; profilesDir?: string };
const deidentifier = createDeidentifier(profilesDir ? { profilesDir } : {});

export default function seal(task: SealTask) {
  return runSealTask(task, deidentifier, signingJwk);
}
