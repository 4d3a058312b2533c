import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHdx } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the built hdx CLI', () => {
  it('bin/hdx.js runs the build in dist/, which is at least as new as the sources', async () => {
    expect(readFileSync(join(ROOT, 'bin', 'hdx.js'), 'utf8')).toContain('../dist/cli.mjs');
    expect(statSync(join(ROOT, 'dist', 'BUILT')).mtimeMs).toBeGreaterThanOrEqual(statSync(join(ROOT, 'cli', 'main.ts')).mtimeMs);
    const help = await runHdx(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:[\s\S]*gateway[\s\S]*hospital[\s\S]*insurer/);
  });

  it('prints an error raised inside an action instead of exiting 1 silently', async () => {
    const run = await runHdx(['deid', '--profile', 'claim-settlement']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^hdx: give at least one (bundle )?file.*\n$/);
  });

  it('prints commander’s own parse errors once', async () => {
    const run = await runHdx(['gateway', 'serve', '--no-such-flag']);
    expect(run.code).toBe(1);
    expect(run.stderr.match(/unknown option '--no-such-flag'/g)).toHaveLength(1);
  });
});
