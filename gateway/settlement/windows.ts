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

export { median, percentile } from '../../keys/statistics.js';
