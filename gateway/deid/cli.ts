/**
 * `hdx deid`: a hospital's privacy officer tests a de-identification profile on local files.
 *
 *   hdx deid --profile <name|file> [--categories a,b] [--out <dir>] [--recursive] [--json] <file|folder…>
 *   hdx deid --check <name|file>
 *
 * Summaries hold counts only, never values.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { FileOutcome } from './local-run.js';
import { DATA_CATEGORIES, type DataCategory } from './types.js';

interface DeidCliOptions {
  profile?: string;
  check?: string;
  profilesDir?: string;
  categories: DataCategory[];
  out: string;
  policyNumber: string;
  keySeed?: string;
  engineOnly?: boolean;
  hospitalSystem?: string[];
  recursive?: boolean;
  json?: boolean;
}

function parseCategories(value: string): DataCategory[] {
  const categories = value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  for (const category of categories) {
    if (!DATA_CATEGORIES.includes(category as DataCategory)) {
      throw new InvalidArgumentError(`unknown category ${category} (one of ${DATA_CATEGORIES.join(', ')})`);
    }
  }
  return categories as DataCategory[];
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? '-' : entries.map(([key, n]) => `${key} ${n}`).join(', ');
}

function summary(outcome: FileOutcome): string {
  const { report } = outcome;
  return [
    `${outcome.input} → ${outcome.output} (${outcome.mode}, profile ${report.profile}${outcome.resources !== undefined ? `, ${outcome.resources} resources` : ''})`,
    `  resources  ${report.resourcesIn} in, ${report.resourcesOut} out; dropped: ${counts(report.resourcesDropped)}`,
    `  methods    ${counts(report.methods)}`,
    `  detectors  ${counts(report.detectors)}`,
  ].join('\n');
}

export function registerDeidCommands(program: Command): Command {
  return program
    .command('deid')
    .description('run or check a de-identification profile locally (privacy officers; counts only in the summary)')
    .argument('[inputs...]', 'FHIR R4 Bundle or resource .json files, .ndjson bulk files, or folders of them')
    .option('--profile <name|file>', 'profile to run: claim-settlement, safe-harbor, statistics, or a JSON file')
    .option('--check <name|file>', 'validate a profile and list its warnings')
    .option('--profiles-dir <dir>', "the operator's profile folder (adds profiles by name)")
    .option('--categories <list>', 'consented categories, comma-separated', parseCategories, [...DATA_CATEGORIES])
    .option('--out <dir>', 'where to write <name>.deid.json', 'deid-out')
    .option('--policy-number <text>', 'policy number for the commercial Coverage', 'TEST-POLICY-0001')
    .option('--key-seed <text>', 'derive test keys and pseudonym from this text (reproducible output); random otherwise')
    .option('--engine-only', 'apply only the profile rules (as Microsoft\'s anonymizer), also to Bundles (always so for a Microsoft configuration)')
    .option('-r, --recursive', 'descend into the sub-folders of a folder input')
    .option('--hospital-system <uri...>', "the hospital's MRN/visit identifier systems (their number shapes are scrubbed)")
    .option('--json', 'print the summary as JSON')
    .action(async (bundles: string[], o: DeidCliOptions) => {
      // Loaded when the command runs: the engine (FHIRPath) is most of hdx's start-up time otherwise.
      const { checkProfile, runOnFiles } = await import('./local-run.js');
      if (o.check !== undefined) {
        const result = checkProfile(o.check, o.profilesDir);
        if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(`ok: profile ${result.name}, ${result.rules} rules (${result.fastRules} fast, ${result.fhirPathRules} FHIRPath)\n`);
          for (const warning of result.warnings) process.stdout.write(`warning: ${warning}\n`);
        }
        return;
      }
      if (o.profile === undefined) throw new InvalidArgumentError('give --profile <name|file> (or --check <profile>)');
      if (bundles.length === 0) throw new InvalidArgumentError('give at least one file or folder');
      const outcomes = runOnFiles(bundles, {
        profile: o.profile,
        ...(o.profilesDir !== undefined && { profilesDir: o.profilesDir }),
        categories: o.categories,
        out: o.out,
        policyNumber: o.policyNumber,
        ...(o.keySeed !== undefined && { keySeed: o.keySeed }),
        engineOnly: o.engineOnly === true,
        hospitalIdentifierSystems: o.hospitalSystem ?? [],
        recursive: o.recursive === true,
      });
      if (o.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
      else process.stdout.write(`${outcomes.map(summary).join('\n')}\n`);
    });
}
