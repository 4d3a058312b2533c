/**
 * Runs `bin/hdx.js` as a real child process, as users do (the build in dist/, kept fresh by the global
 * setup): `runHdx` for a command that ends, `startHdx` for a long-running one, with a wait on its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const HDX_BIN = join(import.meta.dirname, '..', '..', 'bin', 'hdx.js');

export interface HdxResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface HdxProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once stdout or stderr has a line matching `pattern` (rejects if the process ends first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process has ended. */
  exited: Promise<HdxResult>;
}

export function startHdx(args: string[], options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {}): HdxProcess {
  const child = spawn(process.execPath, [HDX_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), changed()));
  child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), changed()));
  child.stdin!.end(options.stdin ?? '');
  let ended = false;
  const exited = new Promise<HdxResult>((resolve) =>
    child.once('close', (code, signal) => {
      ended = true;
      changed();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern) ?? stderr.match(pattern);
          if (match) {
            waiters.delete(check);
            resolve(match);
          } else if (ended) {
            waiters.delete(check);
            reject(new Error(`hdx ${args.join(' ')} ended before ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export function runHdx(args: string[], options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {}): Promise<HdxResult> {
  return startHdx(args, options).exited;
}
