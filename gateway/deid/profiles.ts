/**
 * The profiles the gateway knows: the shipped ones (this folder's `profiles/`) and the operator's (a
 * folder of `*.json` in the same format). All are compiled once, at start; one invalid profile refuses
 * the start, naming the file and the problem.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidProfile } from './engine/errors.js';
import { loadProfile } from './engine/profile.js';
import type { CompiledProfile } from './engine/types.js';
import type { Purpose } from './types.js';

export const SHIPPED_PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

export const DEFAULT_PROFILE: Readonly<Record<Purpose, string>> = {
  DIRECT_SETTLEMENT: 'claim-settlement',
  CLAIM: 'claim-settlement',
  STATISTICS: 'statistics',
};

function loadFolder(dir: string, into: Map<string, CompiledProfile>, origin: string): void {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json')).sort();
  } catch {
    throw new InvalidProfile(`${origin} profile folder cannot be read`);
  }
  for (const file of files) {
    let profile: CompiledProfile;
    try {
      profile = loadProfile(join(dir, file));
    } catch (error) {
      if (error instanceof InvalidProfile) throw new InvalidProfile(`${origin} profile ${file}: ${error.message}`);
      throw error;
    }
    if (into.has(profile.name)) throw new InvalidProfile(`${origin} profile ${file}: a profile named ${profile.name} already exists`);
    into.set(profile.name, profile);
  }
}

export function loadProfiles(profilesDir?: string): Map<string, CompiledProfile> {
  const profiles = new Map<string, CompiledProfile>();
  loadFolder(SHIPPED_PROFILES_DIR, profiles, 'shipped');
  if (profilesDir !== undefined) loadFolder(profilesDir, profiles, 'operator');
  return profiles;
}
