/**
 * Where a command writes a possibly large result: standard output, or a file written beside its final
 * name and renamed into place only when the command succeeded, so a half-written or unverified export
 * never sits under the name the officer asked for.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';

export interface Output {
  stream: Writable;
  /** Closes the file and renames it into place (`ok`) or removes it. */
  finish(ok: boolean): Promise<void>;
}

export function createOutput(path?: string): Output {
  if (!path) return { stream: process.stdout, finish: async () => {} };
  const partial = `${path}.partial`;
  const stream = createWriteStream(partial, { mode: 0o600 });
  let done = false;
  return {
    stream,
    async finish(ok) {
      if (done) return;
      done = true;
      stream.end();
      await finished(stream).catch(() => undefined);
      if (ok) renameSync(partial, path);
      else rmSync(partial, { force: true });
    },
  };
}
