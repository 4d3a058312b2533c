// Preloaded into each settlement party (node --import): names libuv's thread pool "libuv-pool" so the
// bench's per-thread CPU (threads.ts) tells it from V8's threads. A pool thread that answers a readlink of
// /proc/thread-self names itself by its tid; rounds of concurrent calls reach every thread of the pool.
import { readlink } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';

const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const tids = new Set();
for (let round = 0; round < 50 && tids.size < size; round++) {
  const links = await Promise.all(Array.from({ length: 64 }, () => readlink('/proc/thread-self').catch(() => '')));
  for (const link of links) if (link) tids.add(link.split('/').at(-1));
}
for (const tid of tids) {
  try {
    writeFileSync(`/proc/self/task/${tid}/comm`, 'libuv-pool');
  } catch {
    // not Linux: the threads keep their names
  }
}
