/**
 * A real `hdx gateway serve` (or another `hdx` command) as a child process (the crash and failover tests
 * kill it with SIGKILL): started through tsx on cli/main.ts, resolved once it logs that it is ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `hdx gateway serve <args>`; resolves once it logs that it listens, rejects if it exits first. */
export function startGatewayProcess(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  return startHdxProcess(['gateway', 'serve', ...args], 'gateway listening', env);
}

/** Starts `hdx <args>`; resolves once its output (stdout or stderr) shows `ready`, rejects if it exits first. */
export function startHdxProcess(args: readonly string[], ready: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../cli/main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        // Keep draining its log so it never blocks on a full pipe.
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => output.includes(ready) || reject(new Error(`hdx ${args[0]} exited before it was ready (${code ?? signal}): ${output.slice(-2000)}`)));
  });
}

/** Sends `signal` and resolves once the process has exited (at once if it already has). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
