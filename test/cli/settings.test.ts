/**
 * Settings of long-running commands (flag > HDX_ variable > --config file > default) and flag values
 * checked when parsed, with messages that say what to fix: through the real CLI for the messages, and
 * in-process for the order of precedence.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addSettings, type Setting } from '../../cli/runtime/settings.js';
import { boolean, chinaTime, ValueError, wholeNumber } from '../../cli/runtime/values.js';
import { runHdx } from '../support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdx-settings-'));
});

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
  const run = await runHdx(args, { env });
  expect(run.code).toBe(1);
  return run.stderr;
}

describe('settings and flag values, as the CLI reports them', () => {
  it('a flag, a variable and a file value that are not numbers are refused at start, naming where they came from', async () => {
    expect(await refused(['gateway', 'serve', '--lease-seconds', 'abc'])).toContain(
      "error: option '--lease-seconds <n>' argument 'abc' is invalid. must be a whole number of seconds, at least 1",
    );
    expect(await refused(['gateway', 'serve'], { HDX_GATEWAY_LEASE_SECONDS: '0' })).toContain(
      "error: option '--lease-seconds <n>' value '0' from env 'HDX_GATEWAY_LEASE_SECONDS' is invalid. must be a whole number of seconds, at least 1",
    );
    const bad = configFile('bad-value.json', '{"leaseSeconds": "soon"}');
    expect(await refused(['gateway', 'serve', '--config', bad])).toBe(`hdx: config file ${bad}: leaseSeconds: must be a whole number of seconds, at least 1\n`);
    expect(await refused(['gateway', 'serve', '--seal-workers', '2.5'])).toContain('must be a whole number of threads, 0 to 256');
  });

  it('config files: unknown keys, not JSON, missing — each named', async () => {
    const typo = configFile('typo.json', '{"leaseSecond": 30}');
    expect(await refused(['gateway', 'serve', '--config', typo])).toMatch(
      new RegExp(`^hdx: config file ${typo}: unknown setting "leaseSecond"; known: data, dbDir, postgres, registry, listen, sealWorkers, metrics, profiles, leaseSeconds, retentionDays, intake, maxSubmissions\\n$`),
    );
    const broken = configFile('broken.json', '{"leaseSeconds": 30,');
    expect(await refused(['gateway', 'serve', '--config', broken])).toMatch(new RegExp(`^hdx: config file ${broken}: not JSON \\(`));
    const missing = join(dir, 'missing.json');
    expect(await refused(['insurer', 'pull'], { HDX_CONFIG: missing })).toBe(`hdx: config file ${missing}: cannot read it (ENOENT)\n`);
    const list = configFile('list.json', '[30]');
    expect(await refused(['gateway', 'serve', '--config', list])).toContain('must be an object of settings');
  });

  it('paths are named; a missing required setting says the three ways to give it; booleans in variables are true or false', async () => {
    const nowhere = join(dir, 'no-such-folder');
    expect(await refused(['gateway', 'serve', '--data', nowhere])).toContain(`argument '${nowhere}' is invalid. no such folder: ${nowhere}`);
    expect(await refused(['insurer', 'pull', '--out', dir])).toBe('hdx: missing setting --identity: give the flag, HDX_IDENTITY, or "identity" in the --config file\n');
    expect(await refused(['insurer', 'pull', '--identity', dir, '--out', dir], { HDX_PULL_FOLLOW: 'yes' })).toBe('hdx: HDX_PULL_FOLLOW=yes: must be true or false (for --follow)\n');
    expect(await refused(['hospital', 'decisions', '--identity', dir, '--out', dir, '--gateway', 'localhost'])).toContain('must be host:port');
  });

  it('dates are China time; impossible dates and other flags of one-shot commands are refused when parsed', async () => {
    const grant = ['hospital', 'consent', 'grant', '--identity', dir, '--insurer', 'x', '--policy', 'p', '--form-digest', 'd'];
    expect(await refused([...grant, '--valid-from', '2026-02-30'])).toContain(
      "option '--valid-from <date>' argument '2026-02-30' is invalid. must be a date (2026-09-01) or a time (2026-09-01T08:30), China time unless it ends in Z or ±hh:mm",
    );
    expect(await refused([...grant, '--valid-days', 'ninety'])).toContain('must be a whole number of days, 1 to 36600');
    expect(await refused(['hospital', 'submit', dir, '--identity', dir, '--concurrency', '0'])).toContain('must be a whole number of submissions, 1 to 1024');
    expect(await refused(['audit', 'query', '--identity', dir, '--since', 'yesterday'])).toContain("argument 'yesterday' is invalid. must be a date");
  });
});

describe('China time', () => {
  it('a date is midnight in Shenzhen, a time without offset is Shenzhen time, an offset is kept', () => {
    expect(chinaTime('2026-09-01').toISOString()).toBe('2026-08-31T16:00:00.000Z');
    expect(chinaTime('2026-09-01T08:30').toISOString()).toBe('2026-09-01T00:30:00.000Z');
    expect(chinaTime('2026-09-01T08:30:00Z').toISOString()).toBe('2026-09-01T08:30:00.000Z');
    expect(chinaTime('2026-09-01T08:30+09:00').toISOString()).toBe('2026-08-31T23:30:00.000Z');
    for (const bad of ['2026-9-1', '2026-13-01', '2026-09-01T24:30', '1725120000', '', 20260901]) expect(() => chinaTime(bad)).toThrow(ValueError);
  });
});

describe('precedence: flag > HDX_ variable > --config file > default', () => {
  const SETTINGS = {
    leaseSeconds: { flags: '--lease-seconds <n>', description: '', env: 'HDX_TEST_LEASE_SECONDS', parse: wholeNumber('seconds', 1), default: 30 },
    maxSubmissions: { flags: '--max-submissions <n>', description: '', env: 'HDX_TEST_MAX_SUBMISSIONS', parse: wholeNumber('submissions', 1), default: 64 },
    retentionDays: { flags: '--retention-days <n>', description: '', env: 'HDX_TEST_RETENTION_DAYS', parse: wholeNumber('days', 1), default: 7 },
    follow: { flags: '--follow', description: '', env: 'HDX_TEST_FOLLOW', parse: boolean },
  } satisfies Record<string, Setting>;
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  async function resolved(args: string[]): Promise<Record<string, unknown>> {
    let seen: Record<string, unknown> = {};
    const command = new Command('serve').exitOverride();
    addSettings(command, SETTINGS).action((opts: Record<string, unknown>) => void (seen = opts));
    await command.parseAsync(args, { from: 'user' });
    const { config: _config, ...settings } = seen;
    return settings;
  }

  it('each source wins over the ones below it, and numbers from the file count as numbers', async () => {
    const file = configFile('all.json', '{"leaseSeconds": 11, "maxSubmissions": 12, "retentionDays": 13, "follow": true}');
    process.env.HDX_TEST_LEASE_SECONDS = '21';
    process.env.HDX_TEST_MAX_SUBMISSIONS = '22';
    expect(await resolved(['--config', file, '--lease-seconds', '31'])).toEqual({ leaseSeconds: 31, maxSubmissions: 22, retentionDays: 13, follow: true });
    process.env.HDX_TEST_FOLLOW = 'false';
    expect(await resolved(['--config', file])).toEqual({ leaseSeconds: 21, maxSubmissions: 22, retentionDays: 13, follow: false });
    expect(await resolved([])).toEqual({ leaseSeconds: 21, maxSubmissions: 22, retentionDays: 7, follow: false });
    delete process.env.HDX_TEST_LEASE_SECONDS;
    delete process.env.HDX_TEST_MAX_SUBMISSIONS;
    delete process.env.HDX_TEST_FOLLOW;
    expect(await resolved([])).toEqual({ leaseSeconds: 30, maxSubmissions: 64, retentionDays: 7 });
  });
});
