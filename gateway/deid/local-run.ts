/**
 * `hdx deid` on files, for a hospital's privacy officer testing a profile before going live: a Bundle
 * goes through the gateway's whole de-identification (consent categories, pseudonym, policy number,
 * profile, scrubbing) with test keys; any other resource, or a Bundle with `engineOnly`, through the
 * profile alone, as Microsoft's tool runs it. Outputs are written as `<name>.deid.json`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
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
}

export interface FileOutcome {
  input: string;
  output: string;
  mode: 'gateway' | 'engine';
  report: DeidReport;
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
      cryptoHashKey: derive('crypto-hash').toString('base64url'),
      dateShiftKey: derive('date-shift').toString('base64url'),
      encryptKey: derive('encrypt').toString('base64'),
    },
    hospitalIdentifierSystems: options.hospitalIdentifierSystems,
    profile: profile.name,
  };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InvalidInput(`${basename(file)} cannot be read`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new InvalidInput(`${basename(file)} is not valid JSON`);
  }
}

export function runOnFiles(files: readonly string[], options: LocalRunOptions): FileOutcome[] {
  const profile = resolveProfile(options.profile, options.profilesDir);
  const context = testContext(options, profile);
  mkdirSync(options.out, { recursive: true });
  return files.map((file) => {
    const input = readJson(file);
    const isBundle = typeof input === 'object' && input !== null && (input as { resourceType?: unknown }).resourceType === 'Bundle';
    let output: Record<string, unknown>;
    let report: DeidReport;
    let mode: FileOutcome['mode'];
    if (isBundle && !options.engineOnly) {
      ({ bundle: output, report } = deidentifyBundle(profile, input, context));
      mode = 'gateway';
    } else {
      const prefix = profile.parameters.dateShiftScope === 'file' ? basename(file)
        : profile.parameters.dateShiftScope === 'folder' ? basename(dirname(resolve(file))) : '';
      const result = anonymizeResource(profile, input, { keys: context.keys, ...(prefix !== '' && { dateShiftKeyPrefix: prefix }) });
      output = result.resource;
      report = {
        profile: profile.name, resourcesIn: 1, resourcesOut: result.skipped ? 0 : 1, resourcesDropped: {},
        methods: { ...result.methods, ...(result.unknownElements > 0 && { 'unknown-elements-dropped': result.unknownElements }) },
        detectors: {},
      };
      mode = 'engine';
    }
    const target = join(options.out, `${basename(file, extname(file))}.deid.json`);
    writeFileSync(target, `${JSON.stringify(output, null, 2)}\n`);
    return { input: file, output: target, mode, report };
  });
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
