/**
 * `hdx hospital validate`: the gateway's own profile checks (profile/) on a hospital's exports, with no
 * gateway, so hospital IT can test an HIS export before go-live. One line per problem; never a value.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_INTAKE, loadIntakeConfig, PURPOSES, validateDischargeBundle, type Problem, type ProfilePurpose } from '../profile/index.js';

export interface FileReport {
  file: string;
  problems: Problem[];
  /** Amount elements the intake mappings filled in. */
  mapped: string[];
}

export interface LocalValidationOptions {
  purpose?: string;
  intakePath?: string;
  hospitalId?: string;
}

export function validateFiles(files: string[], options: LocalValidationOptions = {}): FileReport[] {
  const purpose = options.purpose ?? 'DIRECT_SETTLEMENT';
  if (!(PURPOSES as readonly string[]).includes(purpose)) throw new Error(`unknown purpose; use one of ${PURPOSES.join(', ')}`);
  const config = options.intakePath ? loadIntakeConfig(options.intakePath) : DEFAULT_INTAKE;
  return files.map((file) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      const expected = (error as NodeJS.ErrnoException).code ? 'must be a readable file' : 'must be valid JSON';
      return { file, problems: [{ path: 'Bundle', expected }], mapped: [] };
    }
    const result = validateDischargeBundle(parsed, {
      purpose: purpose as ProfilePurpose,
      config,
      ...(options.hospitalId !== undefined && { hospitalId: options.hospitalId }),
    });
    return { file, problems: result.problems, mapped: result.mapped };
  });
}
