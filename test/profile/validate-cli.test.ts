/** `hdx hospital validate` as hospital IT runs it: a folder of exports, no gateway, exit 1 and a line per problem. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHdx } from '../support/cli.js';
import { bundleOf, HOSPITAL_EXTENSION, recordsFrom, withHospitalExtension, withoutAmounts } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'hdx-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const record = recordsFrom(77);

describe('hdx hospital validate', () => {
  it('passes good exports, prints one line per problem of the bad, and exits 1', async () => {
    const bad = record();
    writeFileSync(join(dir, 'a-good.json'), JSON.stringify(record().bundle));
    writeFileSync(join(dir, 'b-no-amounts.json'), JSON.stringify(withoutAmounts(bundleOf(bad))));
    writeFileSync(join(dir, 'c-broken.json'), '{ not json');
    writeFileSync(join(dir, 'notes.txt'), 'not a bundle');
    const run = await runHdx(['hospital', 'validate', dir]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toEqual([
      `✓ ${join(dir, 'a-good.json')}  (mapped: socialInsurancePaid)`,
      expect.stringMatching(/^✗ .*b-no-amounts\.json {2}ExplanationOfBenefit\.total.*'submitted'\) or Invoice\.totalGross is required for DIRECT_SETTLEMENT/),
      expect.stringMatching(/^✗ .*b-no-amounts\.json {2}ExplanationOfBenefit\.total.*'benefit'\) is required for DIRECT_SETTLEMENT/),
      `✗ ${join(dir, 'c-broken.json')}  Bundle must be valid JSON`,
      '1/3 valid for DIRECT_SETTLEMENT',
    ]);
    for (const value of bad.identifiers) expect(run.stdout).not.toContain(value);
  });

  it('applies the operator’s intake file, and refuses a bad one before checking anything', async () => {
    const file = join(dir, 'mapped', 'export.json');
    const intake = join(dir, 'intake.json');
    const badIntake = join(dir, 'bad-intake.json');
    rmSync(join(dir, 'mapped'), { recursive: true, force: true });
    mkdirSync(join(dir, 'mapped'));
    writeFileSync(file, JSON.stringify(withHospitalExtension(bundleOf(record()))));
    writeFileSync(intake, JSON.stringify({ version: 1, mappings: [{ element: 'socialInsurancePaid', extension: HOSPITAL_EXTENSION, hospitals: ['nanshan-people'] }] }));
    writeFileSync(badIntake, JSON.stringify({ version: 1, mappings: [{ element: 'socialInsurancePaid' }] }));

    expect((await runHdx(['hospital', 'validate', file])).code).toBe(1);
    const mapped = await runHdx(['hospital', 'validate', file, '--intake', intake, '--hospital', 'nanshan-people']);
    expect(mapped.stdout).toContain('(mapped: socialInsurancePaid)');
    expect(mapped.code).toBe(0);
    const refused = await runHdx(['hospital', 'validate', file, '--intake', badIntake]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/intake\.mappings\[0\] must name exactly one source: extension or path/);
  });
});
