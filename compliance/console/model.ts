/** What one snapshot's pages are built from, computed once per snapshot. */
import { countsForDay, serviceLevelsFromLog, transferStories, type LogOverdue, type LogServiceLevel, type TransferStory, type WindowName } from './figures.js';
import type { Snapshot } from './verified-log.js';

export interface Model {
  snapshot: Snapshot;
  stories: Map<string, TransferStory>;
  /** Promised window (seconds) per insurer and window, from the gateway's report. */
  windowSeconds(insurerId: string, window: WindowName): number | undefined;
  /** Service levels over the whole verified log, and the overdue transfers at `now`. */
  levels: LogServiceLevel[];
  overdue: LogOverdue[];
}

export function buildModel(snapshot: Snapshot, now: number): Model {
  const stories = transferStories(snapshot.events);
  const promised = new Map<string, number>();
  for (const l of snapshot.serviceLevels?.levels ?? []) promised.set(l.window, l.windowSeconds);
  // The windows are the exchange's policy, the same for every insurer; the gateway reports them per row.
  const windowSeconds = (_insurerId: string, window: WindowName) => promised.get(window);
  const { levels, overdue } = serviceLevelsFromLog(stories.values(), (w) => promised.get(w), now);
  return { snapshot, stories, windowSeconds, levels, overdue };
}

export { countsForDay };
