/**
 * What the crash scripts (test/crash/*.ts) share: their numeric flags, and a fresh exchange with one
 * real gateway process to kill or keep (`hdx gateway serve`, one seal worker, 2 s leases so a dead party's
 * leases come back within a run).
 */
import { join } from 'node:path';
import { initExchange } from '../../keys/exchange/init.js';
import { freePort, startGatewayProcess } from './gateway-process.js';

/** `--name N` from the command line, or `fallback` when absent or not a positive number. */
export function numericFlag(name: string, fallback: number, argv = process.argv.slice(2)): number {
  const at = argv.indexOf(name);
  return (at >= 0 && Number(argv[at + 1])) || fallback;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An exchange under `root`, with a free port for its gateway; `startGateway()` starts (or restarts) it. */
export async function crashExchange(root: string) {
  const summary = await initExchange(join(root, 'exchange'));
  const gatewayDir = summary.gateway.dir;
  const port = await freePort();
  return {
    gatewayDir,
    port,
    address: `localhost:${port}`,
    partyDir: (id: string) => join(root, 'exchange', 'parties', id),
    startGateway: () =>
      startGatewayProcess(['--data', gatewayDir, '--listen', `127.0.0.1:${port}`, '--seal-workers', '1', '--lease-seconds', '2']),
  };
}
