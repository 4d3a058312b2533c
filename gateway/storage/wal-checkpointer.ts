/**
 * Copies the WAL back into the database file on a thread of its own. SQLite's automatic checkpoint runs
 * inside the COMMIT that crosses the threshold, on the event loop: every few hundred transfers one
 * request stalled while megabytes were written and fsynced. Here a PASSIVE checkpoint (it never blocks
 * readers or the writer) runs every `intervalMs` from a second connection; the gateway's own connection
 * keeps a far higher automatic threshold only as a backstop should this thread fall behind.
 */
import { Worker } from 'node:worker_threads';

export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

export function startWalCheckpointer(path: string, options: { intervalMs?: number; onError?: (code: string) => void } = {}): WalCheckpointer {
  const worker = new Worker(new URL('./wal-checkpoint-worker.mjs', import.meta.url), {
    workerData: { path, intervalMs: options.intervalMs ?? 500 },
  });
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(message.error);
  });
  worker.on('error', (error) => options.onError?.(String(error)));
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.ref(); // wait for its last checkpoint even if nothing else keeps the process up
      worker.postMessage('stop');
      await exited;
    },
  };
}
