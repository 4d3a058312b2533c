/**
 * A registry reload that reaches every replica. The replica told to reload (SIGHUP or
 * `RunningGateway.reloadRegistry`) re-reads its file, audits the change once, and publishes on the
 * Store Notifier's `registry` channel; every other gateway process on the same store re-reads its own
 * copy of the file when the message arrives (streams of parties it no longer lists end, as after a local
 * reload). The file must therefore be the same on every replica before one of them is told to reload.
 * With SQLite there is one process: the LocalNotifier delivers in-process.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Gateway } from './app.js';
import type { RegistryChange, RegistryParties } from './parties.js';

export interface RegistrySync {
  /** Reloads here, audits what changed, and tells the other replicas. Throws (nothing published) on a broken file. */
  reload(): Promise<RegistryChange>;
  /** Stops following the other replicas' reloads. */
  stop(): void;
}

export function syncRegistry(gw: Gateway, parties: RegistryParties, logger: Logger): RegistrySync {
  // Our own publications come back to us (LocalNotifier; PostgreSQL's NOTIFY reaches the sender too).
  const self = randomUUID();
  const unsubscribe = gw.events.subscribe('registry', (from) => {
    if (from === self) return;
    try {
      const change = parties.reload();
      logger.info({ changed: changed(change) }, 'registry reloaded (another replica reloaded)');
    } catch (error) {
      logger.error({ error: (error as Error)?.name }, 'registry reload refused; keeping the previous registry');
    }
  });
  return {
    async reload() {
      const change = parties.reload();
      if (changed(change)) {
        await gw.commit((tx) =>
          gw.audit.append(tx, {
            action: change.keysAdded.length + change.keysRemoved.length > 0 ? 'key.rotate' : 'registry.reload',
            actor: 'gateway',
            outcome: 'ok',
            details: { ...change },
          }),
        );
      }
      // Published even when nothing changed here: a replica that missed an earlier message catches up.
      gw.events.publish('registry', self);
      logger.info({ changed: changed(change) }, 'registry reloaded');
      return change;
    },
    stop: unsubscribe,
  };
}

const changed = (change: RegistryChange) => Object.values(change).some((list) => list.length > 0);
