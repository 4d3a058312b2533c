/**
 * Wake-ups within one process: the SQLite engine's whole Notifier, and what the PostgreSQL engine fans
 * LISTEN/NOTIFY messages out to.
 */
import { EventEmitter } from 'node:events';
import type { Channel, Notifier } from './store.js';

export class LocalNotifier implements Notifier {
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  publish(channel: Channel, payload = ''): void {
    this.events.emit(channel, payload);
  }

  subscribe(channel: Channel, listener: (payload: string) => void): () => void {
    this.events.on(channel, listener);
    return () => this.events.off(channel, listener);
  }

  /** The channels with subscribers (the PostgreSQL notifier wakes them after a reconnect). */
  channels(): Channel[] {
    return this.events.eventNames().filter((name): name is Channel => typeof name === 'string');
  }

  /** Subscribers of a channel (tests check that streams unsubscribe). */
  listenerCount(channel: Channel): number {
    return this.events.listenerCount(channel);
  }
}
