/**
 * What every party's long-running command shares: its identity folder and gateway address as settings, and
 * a first connection that waits for a gateway not up yet (a service started before, or with, the gateway).
 */
import { describeError } from '../../proto/errors.js';
import { retryUnavailable } from '../../proto/connect.js';
import type { ServiceContext } from './service.js';
import type { Setting } from './settings.js';
import { existingPath, gatewayAddressList, wholeNumber } from './values.js';

export const PARTY_SETTINGS = {
  identity: { flags: '--identity <dir>', description: 'this party’s folder from `hdx keys init` (parties/<id>)', env: 'HDX_IDENTITY', parse: existingPath('folder'), required: true },
  gateway: { flags: '--gateway <host:port,…>', description: 'gateway address, or several replicas’ tried in order (default: from party.json)', env: 'HDX_GATEWAY_ADDRESS', parse: gatewayAddressList },
  connectSeconds: { flags: '--connect-seconds <n>', description: 'how long the first connection waits for an unreachable gateway', env: 'HDX_CONNECT_SECONDS', parse: wholeNumber('seconds', 0), default: 120 },
} satisfies Record<string, Setting>;

/**
 * Opens the session, retrying while the gateway is unreachable (UNAVAILABLE) for up to `seconds`, with a
 * line per retry and one once connected; undefined if the service was told to stop while waiting.
 */
export async function openWithRetry<S>(open: () => Promise<S>, context: ServiceContext, seconds: number): Promise<S | undefined> {
  try {
    const session = await retryUnavailable(open, {
      forMs: seconds * 1000,
      firstDelayMs: 500,
      maxDelayMs: 10_000,
      signal: context.signal,
      onRetry: (error, delayMs) => context.log(`gateway unreachable (${describeError(error)}); trying again in ${(delayMs / 1000).toFixed(1)} s`),
    });
    context.log('connected to the gateway');
    return session;
  } catch (error) {
    if (context.signal.aborted) return undefined;
    throw error;
  }
}

export const STOPPED_BEFORE_CONNECTING = 'stopped before the gateway was reached';
