// The WAL checkpointer's thread (plain JavaScript: nothing to load but better-sqlite3). See wal-checkpointer.ts.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

// Named for top -H and the bench's per-thread CPU (as gateway/thread-name.ts does; this file loads no TypeScript).
try {
  writeFileSync('/proc/thread-self/comm', 'hdx-wal-ckpt');
} catch {
  // not Linux: the thread keeps its name
}

const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
// FULL: the checkpoint fsyncs the database file before the WAL may be reused.
db.pragma('synchronous = FULL');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error?.code ?? error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
