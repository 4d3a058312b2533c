/**
 * Sealing dominates the cost of a submission (DESIGN §6: ~1,300 ECDH-ES encryptions/s per core), so it
 * runs off the event loop in a pool of worker threads (piscina) sized to the cores; `workers: 0` runs
 * it in-process (tests, tiny deployments).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { Piscina } from 'piscina';
import { createDeidentifier } from '../deid/index.js';
import { runSealTask, type SealResult, type SealTask } from './seal-task.js';

export interface Sealer {
  seal(task: SealTask): Promise<SealResult>;
  close(): Promise<void>;
}

export function createSealer(options: { signingJwk: JWK; profilesDir?: string; workers?: number }): Sealer {
  const workers = options.workers ?? availableParallelism();
  if (workers <= 0) {
    const deidentifier = createDeidentifier(options.profilesDir ? { profilesDir: options.profilesDir } : {});
    return {
      seal: (task) => runSealTask(task, deidentifier, options.signingJwk),
      close: async () => {},
    };
  }
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./worker-entry.mjs', import.meta.url)),
    minThreads: workers,
    maxThreads: workers,
    workerData: { signingJwk: options.signingJwk, profilesDir: options.profilesDir },
  });
  return {
    seal: (task) => pool.run(task) as Promise<SealResult>,
    close: () => pool.destroy(),
  };
}
