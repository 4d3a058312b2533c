/**
 * Microsoft's 28 anonymizer cases run as a privacy officer runs them: `hdx deid --profile <their
 * configuration>` on their input files, the output read back from the files the command writes. The
 * configurations' own keys must be used (before, the CLI replaced them with test keys and 12 cases
 * differed); a folder and an NDJSON bulk file give what the same resources give one by one.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerDeidCommands } from '../../gateway/deid/cli.js';
import { conformancePath } from '../support/conformance.js';

const DIR = conformancePath('fhir-anonymizer');
const AGE_DEPENDENT = 'patient-special-content.json';

const cases = readFileSync(join(DIR, 'CASES.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t') as [string, string, string]);

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;

/** Runs `hdx deid …` in this process, through the command's own argument parsing. */
async function hdxDeid(args: string[]): Promise<string> {
  let out = '';
  const program = new Command('hdx').exitOverride();
  registerDeidCommands(program);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['deid', ...args], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

function over89(birth: string, today: Date): boolean {
  const [year, month, day] = birth.split('-').map(Number) as [number, number, number];
  const before = today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day);
  return today.getFullYear() - year - (before ? 1 : 0) > 89;
}

function expected(file: string, input: string): Record<string, unknown> {
  const want = readJson(join(DIR, 'TestResources', file));
  if (input === AGE_DEPENDENT && over89('1940-01-01', new Date())) {
    delete want['birthDate'];
    want['_birthDate'] = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime' }] };
  }
  return want;
}

describe('the 28 Microsoft anonymizer cases through `hdx deid`', () => {
  it('lists 28 cases', () => expect(cases).toHaveLength(28));

  for (const [config, input, want] of cases) {
    it(`hdx deid --profile ${config} ${input}`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'hdx-deid-cli-'));
      const summary = JSON.parse(
        await hdxDeid(['--profile', join(DIR, 'Configurations', config), '--out', out, '--json', join(DIR, 'TestResources', input)]),
      ) as Array<{ output: string; mode: string }>;
      expect(summary).toHaveLength(1);
      expect(summary[0]!.mode).toBe('engine'); // a Microsoft configuration runs as that tool runs it
      expect(readJson(summary[0]!.output)).toEqual(expected(want, input));
    });
  }

  it('takes a folder (recursively) and keeps relative paths', async () => {
    const source = mkdtempSync(join(tmpdir(), 'hdx-deid-in-'));
    mkdirSync(join(source, 'ward-3'));
    copyFileSync(join(DIR, 'TestResources', 'patient-basic.json'), join(source, 'patient-basic.json'));
    copyFileSync(join(DIR, 'TestResources', 'patient-basic.json'), join(source, 'ward-3', 'again.json'));
    writeFileSync(join(source, 'README.txt'), 'not a resource');
    const config = join(DIR, 'Configurations', 'common-config.json');
    const want = readJson(join(DIR, 'TestResources', 'patient-basic-target.json'));

    const flat = mkdtempSync(join(tmpdir(), 'hdx-deid-out-'));
    expect(JSON.parse(await hdxDeid(['--profile', config, '--out', flat, '--json', source]))).toHaveLength(1);

    const out = mkdtempSync(join(tmpdir(), 'hdx-deid-out-'));
    const summary = JSON.parse(await hdxDeid(['--profile', config, '--out', out, '--json', '--recursive', source])) as unknown[];
    expect(summary).toHaveLength(2);
    expect(readJson(join(out, 'patient-basic.deid.json'))).toEqual(want);
    expect(readJson(join(out, 'ward-3', 'again.deid.json'))).toEqual(want);
  });

  it('takes NDJSON bulk files, one resource per line, as the resources one by one', async () => {
    const source = mkdtempSync(join(tmpdir(), 'hdx-deid-in-'));
    const inputs = ['patient-basic.json', 'patient-special-content.json', 'condition-empty.json'].map((file) => join(DIR, 'TestResources', file));
    writeFileSync(join(source, 'bulk.ndjson'), inputs.map((file) => JSON.stringify(readJson(file))).join('\n') + '\n');
    const config = join(DIR, 'Configurations', 'common-config.json');
    const out = mkdtempSync(join(tmpdir(), 'hdx-deid-out-'));
    const [outcome] = JSON.parse(await hdxDeid(['--profile', config, '--out', out, '--json', join(source, 'bulk.ndjson')])) as Array<{ output: string; resources: number }>;
    expect(outcome!.resources).toBe(inputs.length);
    const lines = readFileSync(outcome!.output, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    for (const [i, file] of inputs.entries()) {
      const single = mkdtempSync(join(tmpdir(), 'hdx-deid-out-'));
      const [one] = JSON.parse(await hdxDeid(['--profile', config, '--out', single, '--json', file])) as Array<{ output: string }>;
      expect(lines[i]).toEqual(readJson(one!.output));
    }
  });

  it('refuses a folder with no resource in it, and a bad NDJSON line by its number, quoting nothing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'hdx-deid-in-'));
    const config = join(DIR, 'Configurations', 'common-config.json');
    await expect(hdxDeid(['--profile', config, '--out', empty, empty])).rejects.toThrow(/no \.json or \.ndjson file/);
    const bad = join(empty, 'bad.ndjson');
    writeFileSync(bad, `${JSON.stringify({ resourceType: 'Patient', id: 'p1' })}\n{"name": "王秀英 13800138000"\n`);
    const error = await hdxDeid(['--profile', config, '--out', empty, bad]).catch((e: Error) => e);
    expect(String(error)).toMatch(/bad\.ndjson line 2 is not valid JSON/);
    expect(String(error)).not.toContain('王秀英');
  });
});
