/** `createDeidentifier`: profiles loaded and validated once; then one pure call per record and insurer. */
import { InvalidInput } from '../errors.js';
import { deidentifyBundle } from './deidentify.js';
import { DEFAULT_PROFILE, loadProfiles } from './profiles.js';
import type { DeidContext, Deidentifier } from './types.js';

export function createDeidentifier(options: { profilesDir?: string } = {}): Deidentifier {
  const profiles = loadProfiles(options.profilesDir);
  return {
    deidentify(bundle: unknown, ctx: DeidContext) {
      const name = ctx.profile ?? DEFAULT_PROFILE[ctx.purpose];
      const profile = name === undefined ? undefined : profiles.get(name);
      if (profile === undefined) throw new InvalidInput(`no de-identification profile ${String(name)} for purpose ${String(ctx.purpose)}`);
      return deidentifyBundle(profile, bundle, ctx);
    },
    profiles: () => [...profiles.keys()],
  };
}
