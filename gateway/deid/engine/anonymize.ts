/**
 * The engine on its own, as Microsoft's tool runs it: one resource (or Bundle) in, its anonymized JSON
 * out. Used by the conformance suite and `hdx deid --profile` on plain files; the gateway's pipeline
 * uses the tree functions directly so that it parses each record once.
 */
import { DeidProcessingError } from './errors.js';
import { emptyResource } from './labels.js';
import { pruneEmpty, resourceFromJson, toJson, type ParseStats } from './node.js';
import { runProfile, type RunOptions } from './run.js';
import type { CompiledProfile } from './types.js';

export interface AnonymizeResult {
  resource: Record<string, unknown>;
  methods: Record<string, number>;
  unknownElements: number;
  /** True when a rule failed and the profile's processingErrors is skip: the output is the empty element. */
  skipped: boolean;
}

export function anonymizeResource(profile: CompiledProfile, json: unknown, options: RunOptions = {}): AnonymizeResult {
  const stats: ParseStats = { unknownElements: 0 };
  const root = resourceFromJson(json, stats);
  try {
    const counts = runProfile(profile, root, options);
    pruneEmpty(root);
    return { resource: toJson(root), methods: counts.methods, unknownElements: stats.unknownElements, skipped: false };
  } catch (error) {
    if (error instanceof DeidProcessingError && profile.processingErrors === 'skip') {
      return { resource: emptyResource(root.type), methods: {}, unknownElements: stats.unknownElements, skipped: true };
    }
    throw error;
  }
}
