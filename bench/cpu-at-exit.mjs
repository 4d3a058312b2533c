// Preloaded into a bench child (`node --import`): writes the process's CPU time over all its threads,
// user + system, in microseconds, to stderr as it exits — a child's CPU is not readable once it is gone.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  writeSync(2, `\nhdx-bench-cpu-us ${user + system}\n`);
});
