/**
 * Service windows and the statistics over them, as pure functions. A transfer's promised window follows
 * from its submission: direct settlement (seconds, at the discharge desk), otherwise an outpatient or an
 * inpatient claim by encounter class. Statistics-purpose transfers expect no decision and have no window.
 */
import type { GatewaySettings } from '../app.js';

export const WINDOWS = ['direct-settlement', 'outpatient', 'inpatient'] as const;
export type WindowName = (typeof WINDOWS)[number];

/** v3 ActCode encounter classes that are hospital stays; every other class is handled as outpatient. */
const INPATIENT_CLASSES = new Set(['IMP', 'ACUTE', 'NONAC']);

export function windowOf(purpose: string, encounterClass: string): WindowName | undefined {
  if (purpose === 'DIRECT_SETTLEMENT') return 'direct-settlement';
  if (purpose !== 'CLAIM') return undefined;
  return INPATIENT_CLASSES.has(encounterClass) ? 'inpatient' : 'outpatient';
}

export function windowMs(settings: GatewaySettings['serviceWindows'], window: WindowName): number {
  switch (window) {
    case 'direct-settlement':
      return settings.directSettlement;
    case 'outpatient':
      return settings.outpatient;
    case 'inpatient':
      return settings.inpatient;
  }
}

/** The median: the middle value, or the mean of the two middle values. 0 for no values. */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (the smallest value with at least p% of values at or below it). 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
