/**
 * Sealing dominates the cost of a submission (DESIGN §6), so it runs off the event loop in a pool of
 * worker threads (piscina), one per core but one; `workers: 0` runs it in-process (tests, tiny deployments).
 *
 * Seals requested in the same turn of the event loop (a streamed batch, a record for several insurers,
 * concurrent calls) go to the pool together: one message per worker, not one per transfer. Each distinct
 * bundle is copied once into a buffer of its own and that buffer is moved to the worker (no structured
 * clone of the text); the sealed JWEs come back as moved buffers too (`worker.ts`). A task that fails
 * fails alone: the others of its message keep their results.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { Piscina } from 'piscina';
import { createDeidentifier } from '../deid/index.js';
import { runSealTask, type SealResult, type SealTask } from './seal-task.js';
import { fromThread } from './thread-errors.js';
import type { SealBatch, SealOutcome } from './worker.js';

export interface Sealer {
  seal(task: SealTask): Promise<SealResult>;
  /** Tasks sealed and worker messages sent so far (in-process: one "message" per task). */
  stats(): { tasks: number; messages: number; utilization?: number; queued?: number };
  close(): Promise<void>;
}

/**
 * One thread per core but one: the event loop needs a core of its own (it is the gateway's bottleneck),
 * and each worker is an isolate of its own that V8 compiles the seal code for again (measured on 2 cores:
 * 1 worker instead of 2 cut the gateway's CPU per record by ~1 ms, docs/scaling.md).
 */
export function defaultSealWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Most tasks in one worker message: bounds how long one message holds a worker. */
const MAX_TASKS_PER_MESSAGE = 32;

interface Queued {
  task: SealTask;
  resolve: (result: SealResult) => void;
  reject: (error: unknown) => void;
}

export function createSealer(options: { signingJwk: JWK; profilesDir?: string; workers?: number }): Sealer {
  const workers = options.workers ?? defaultSealWorkers();
  if (workers <= 0) {
    const deidentifier = createDeidentifier(options.profilesDir ? { profilesDir: options.profilesDir } : {});
    let tasks = 0;
    return {
      seal: (task) => {
        tasks += 1;
        return runSealTask(task, deidentifier, options.signingJwk);
      },
      stats: () => ({ tasks, messages: tasks }),
      close: async () => {},
    };
  }
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./worker-entry.mjs', import.meta.url)),
    minThreads: workers,
    maxThreads: workers,
    workerData: { signingJwk: options.signingJwk, profilesDir: options.profilesDir },
  });
  let queue: Queued[] = [];
  const counts = { tasks: 0, messages: 0 };
  const flush = () => {
    const pending = queue;
    queue = [];
    // Spread over the threads: n tasks become `workers` messages, not one message for one thread.
    const size = Math.min(MAX_TASKS_PER_MESSAGE, Math.ceil(pending.length / workers));
    for (let i = 0; i < pending.length; i += size) {
      counts.messages += 1;
      counts.tasks += Math.min(size, pending.length - i);
      send(pool, pending.slice(i, i + size));
    }
  };
  return {
    seal: (task) =>
      new Promise<SealResult>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ task, resolve, reject });
      }),
    stats: () => ({ ...counts, utilization: pool.utilization, queued: queue.length + pool.queueSize }),
    close: () => pool.destroy(),
  };
}

function send(pool: Piscina, items: Queued[]): void {
  const { batch, transferList } = batchOf(items.map((q) => q.task));
  (pool.run(batch, { transferList }) as Promise<SealOutcome[]>).then(
    (outcomes) =>
      items.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve({ ...outcome.result, payload: latin1(outcome.result.payload) });
        else item.reject(fromThread(outcome.error));
      }),
    (error: unknown) => items.forEach((item) => item.reject(error)),
  );
}

/** One copy of each distinct bundle into a buffer of its own, which then moves to the worker. */
function batchOf(tasks: SealTask[]): { batch: SealBatch; transferList: ArrayBuffer[] } {
  const index = new Map<Uint8Array, number>();
  const bundles: Uint8Array[] = [];
  const wire = tasks.map(({ bundle, ...rest }) => {
    let at = index.get(bundle);
    if (at === undefined) {
      at = bundles.push(new Uint8Array(bundle)) - 1;
      index.set(bundle, at);
    }
    return { ...rest, bundleIndex: at };
  });
  return { batch: { bundles, tasks: wire }, transferList: bundles.map((b) => b.buffer as ArrayBuffer) };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
