/**
 * A PostgreSQL URL may hold a password: whether it is malformed or points at no server, no error the CLI
 * prints or the engine throws repeats it (commander's own message quotes a bad value; ours never).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../gateway/storage/postgres/store.js';
import { runHdx } from '../support/cli.js';

const PASSWORD = 's3cretPW';
const MALFORMED = `mysql://hdx:${PASSWORD}@db.internal/hdx`;

describe('a PostgreSQL URL’s password never reaches an error', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hdx-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Any folder passes --data's check, which comes first; the URL is refused before keys are read.
  const gatewayDir = () => dir;
  async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
    const run = await runHdx(args, { env });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    return run.stderr;
  }

  it('a malformed URL, from the flag, the variable, the config file or migrate’s flag, is refused without its value', async () => {
    expect(await refused(['gateway', 'serve', '--data', gatewayDir(), '--postgres', MALFORMED])).toContain(
      "option '--postgres <url>' (or HDX_GATEWAY_POSTGRES) is invalid (its value is not repeated): must be a postgresql:// URL",
    );
    expect(await refused(['gateway', 'serve', '--data', gatewayDir()], { HDX_GATEWAY_POSTGRES: MALFORMED })).toContain('must be a postgresql:// URL');
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ postgres: MALFORMED }));
    expect(await refused(['gateway', 'serve', '--data', gatewayDir(), '--config', config])).toContain('postgres: must be a postgresql:// URL');
    // A file that is not JSON: V8's message would quote the text around the fault.
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, `{"postgres": postgresql://hdx:${PASSWORD}@db.internal/hdx}`);
    expect(await refused(['gateway', 'serve', '--data', gatewayDir(), '--config', broken])).toContain('not JSON (Unexpected token');
    expect(await refused(['gateway', 'migrate', '--to', 'postgres', '--data', gatewayDir(), '--postgres', MALFORMED])).toContain('must be a postgresql:// URL');
  });

  it('a well-formed URL pointing at no server: the engine’s error holds no password', async () => {
    for (const url of [
      `postgresql://hdx:${PASSWORD}@127.0.0.1:1/hdx`, // nothing listens on port 1
      `postgresql://hdx:${PASSWORD}@${encodeURIComponent(join(dir, 'no-socket-here'))}/hdx`,
      `postgresql://hdx:${PASSWORD}@[not-an-address/hdx`, // past our check, refused by node-postgres's parser
    ]) {
      const error = await openPostgresStore({ dataDir: dir, postgres: { connectionString: url } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(`${String(error)} ${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`).not.toContain(PASSWORD);
    }
  });
});
