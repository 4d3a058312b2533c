/**
 * `hdx deid` on files, for a hospital's privacy officer testing a profile before going live: a Bundle
 * goes through the gateway's whole de-identification (consent categories, pseudonym, policy number,
 * profile, scrubbing); any other resource, a Bundle with `engineOnly`, and everything under a Microsoft
 * anonymizer configuration, through the profile alone, as Microsoft's tool runs it. A key the profile
 * sets (`cryptoHashKey`, `dateShiftKey`, `encryptKey`) is used as set, so a configuration gives the
 * output it gives that tool; test keys fill only the keys it leaves empty.
 *
 * Inputs are files and folders (`recursive` to descend) of `.json` resources or `.ndjson` bulk files (one
 * resource per line); outputs keep the input's relative path, as `<name>.deid.json` / `.deid.ndjson`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { InvalidInput } from '../errors.js';
import { deidentifyBundle } from './deidentify.js';
import { anonymizeResource } from './engine/anonymize.js';
import { InvalidProfile } from './engine/errors.js';
import { loadProfile } from './engine/profile.js';
import type { CompiledProfile } from './engine/types.js';
import { loadProfiles } from './profiles.js';
import type { DataCategory, DeidContext, DeidReport } from './types.js';

export interface LocalRunOptions {
  profile: string;
  profilesDir?: string;
  categories: DataCategory[];
  out: string;
  policyNumber: string;
  /** Any text: makes keys and pseudonym reproducible between runs; random otherwise. */
  keySeed?: string;
  engineOnly: boolean;
  hospitalIdentifierSystems: string[];
  /** Descend into sub-folders of a folder given as input. */
  recursive?: boolean;
}

export interface FileOutcome {
  input: string;
  output: string;
  mode: 'gateway' | 'engine';
  report: DeidReport;
  /** NDJSON: how many resources (lines) the file held. */
  resources?: number;
}

/** A profile by name (shipped or in the operator's folder) or by file. */
export function resolveProfile(nameOrFile: string, profilesDir?: string): CompiledProfile {
  const byName = loadProfiles(profilesDir).get(nameOrFile);
  if (byName !== undefined) return byName;
  if (nameOrFile.endsWith('.json') || nameOrFile.includes('/')) return loadProfile(nameOrFile);
  throw new InvalidProfile(`no profile named ${nameOrFile} (and no such file)`);
}

function testContext(options: LocalRunOptions, profile: CompiledProfile): DeidContext {
  const seed = options.keySeed ?? randomBytes(16).toString('hex');
  const derive = (what: string) => createHash('sha256').update(`hdx deid test ${what}\u0000${seed}`).digest();
  return {
    purpose: 'DIRECT_SETTLEMENT',
    categories: options.categories,
    pseudonym: derive('pseudonym').toString('hex').slice(0, 32),
    policyNumber: options.policyNumber,
    keys: {
      cryptoHashKey: profile.parameters.cryptoHashKey || derive('crypto-hash').toString('base64url'),
      dateShiftKey: profile.parameters.dateShiftKey || derive('date-shift').toString('base64url'),
      encryptKey: profile.parameters.encryptKey || derive('encrypt').toString('base64'),
    },
    hospitalIdentifierSystems: options.hospitalIdentifierSystems,
    profile: profile.name,
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch {
    throw new InvalidInput(`${basename(file)} cannot be read`);
  }
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInput(`${where} is not valid JSON`);
  }
}

const isNdjson = (file: string): boolean => extname(file).toLowerCase() === '.ndjson';
const isInput = (file: string): boolean => ['.json', '.ndjson'].includes(extname(file).toLowerCase()) && !/\.deid\.(nd)?json$/i.test(file);

/** Each input file with the path its output keeps (relative to the folder it was found in). */
export function expandInputs(inputs: readonly string[], recursive: boolean): Array<{ file: string; relativePath: string }> {
  const found: Array<{ file: string; relativePath: string }> = [];
  for (const input of inputs) {
    let isFolder: boolean;
    try {
      isFolder = statSync(input).isDirectory();
    } catch {
      throw new InvalidInput(`${input} does not exist`);
    }
    if (!isFolder) {
      found.push({ file: input, relativePath: basename(input) });
      continue;
    }
    const walk = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) {
          if (recursive) walk(path);
        } else if (isInput(path)) found.push({ file: path, relativePath: relative(input, path) });
      }
    };
    walk(input);
  }
  return found;
}

export function runOnFiles(inputs: readonly string[], options: LocalRunOptions): FileOutcome[] {
  const profile = resolveProfile(options.profile, options.profilesDir);
  const context = testContext(options, profile);
  const engineOnly = options.engineOnly || profile.origin === 'anonymizer';
  const files = expandInputs(inputs, options.recursive === true);
  if (files.length === 0) throw new InvalidInput('no .json or .ndjson file among the inputs');
  return files.map(({ file, relativePath }) => {
    const one = (input: unknown): { output: unknown; report: DeidReport; mode: FileOutcome['mode'] } => {
      const isBundle = typeof input === 'object' && input !== null && (input as { resourceType?: unknown }).resourceType === 'Bundle';
      if (isBundle && !engineOnly) {
        const { bundle, report } = deidentifyBundle(profile, input, context);
        return { output: bundle, report, mode: 'gateway' };
      }
      const prefix = profile.parameters.dateShiftScope === 'file' ? basename(file)
        : profile.parameters.dateShiftScope === 'folder' ? basename(dirname(resolve(file))) : '';
      const result = anonymizeResource(profile, input, { keys: context.keys, ...(prefix !== '' && { dateShiftKeyPrefix: prefix }) });
      const report: DeidReport = {
        profile: profile.name, resourcesIn: 1, resourcesOut: result.skipped ? 0 : 1, resourcesDropped: {},
        methods: { ...result.methods, ...(result.unknownElements > 0 && { 'unknown-elements-dropped': result.unknownElements }) },
        detectors: {},
      };
      return { output: result.resource, report, mode: 'engine' };
    };
    const name = basename(relativePath, extname(relativePath));
    const target = join(options.out, dirname(relativePath), `${name}.deid${isNdjson(file) ? '.ndjson' : '.json'}`);
    mkdirSync(dirname(target), { recursive: true });
    const text = readText(file);
    if (!isNdjson(file)) {
      const { output, report, mode } = one(parse(text, basename(file)));
      writeFileSync(target, `${JSON.stringify(output, null, 2)}\n`);
      return { input: file, output: target, mode, report };
    }
    const lines: string[] = [];
    let total: DeidReport | undefined;
    let mode: FileOutcome['mode'] = 'engine';
    text.split(/\r?\n/).forEach((line, index) => {
      if (line.trim() === '') return;
      const result = one(parse(line, `${basename(file)} line ${index + 1}`));
      lines.push(JSON.stringify(result.output));
      mode = result.mode;
      total = total === undefined ? result.report : addReports(total, result.report);
    });
    writeFileSync(target, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    const empty: DeidReport = { profile: profile.name, resourcesIn: 0, resourcesOut: 0, resourcesDropped: {}, methods: {}, detectors: {} };
    return { input: file, output: target, mode, report: total ?? empty, resources: lines.length };
  });
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [key, n] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

function addReports(a: DeidReport, b: DeidReport): DeidReport {
  return {
    ...a,
    resourcesIn: a.resourcesIn + b.resourcesIn,
    resourcesOut: a.resourcesOut + b.resourcesOut,
    resourcesDropped: addCounts(a.resourcesDropped, b.resourcesDropped),
    methods: addCounts(a.methods, b.methods),
    detectors: addCounts(a.detectors, b.detectors),
  };
}

export interface CheckOutcome {
  name: string;
  rules: number;
  fastRules: number;
  fhirPathRules: number;
  warnings: readonly string[];
}

export function checkProfile(nameOrFile: string, profilesDir?: string): CheckOutcome {
  const profile = resolveProfile(nameOrFile, profilesDir);
  const fhirPathRules = profile.rules.filter((rule) => rule.selector.kind === 'fhirpath').length;
  return { name: profile.name, rules: profile.rules.length, fastRules: profile.rules.length - fhirPathRules, fhirPathRules, warnings: profile.warnings };
}
