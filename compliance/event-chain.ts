/**
 * Checks a log's events in order, as they stream in, with flat memory: each sits at its position, links
 * to its predecessor's leaf hash, matches the leaf hash the gateway stored for it, and feeds the RFC 9162
 * root. `verify`, `export` and the bench all walk the log through this one class.
 */
import { leafHash } from '../keys/transparency/index.js';
import { EventMalformed, loggedEventFrom, type LoggedEvent } from './audit-event.js';
import { RootAccumulator } from './root-accumulator.js';

/** The log does not hold together at `seq`. */
export class ChainBreak extends Error {
  readonly code = 'ERR_CHAIN' as const;
  constructor(readonly seq: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChainBreak';
  }
}

export class EventChain {
  private readonly acc = new RootAccumulator();
  private prev = '';

  /** Events checked so far; the next must have this sequence number. */
  get size(): number {
    return this.acc.size;
  }

  /**
   * Checks the next event. `servedSeq` is the position the gateway says it has; `storedLeaf`, if the
   * gateway sent one, the leaf hash it keeps for it. Returns the parsed event. Throws `ChainBreak`.
   */
  push(servedSeq: number, eventJson: string, storedLeaf?: Uint8Array): { event: LoggedEvent; leaf: Buffer } {
    const seq = this.acc.size;
    if (servedSeq !== seq) throw new ChainBreak(seq, `event ${seq} is missing`);
    const leaf = leafHash(Buffer.from(eventJson, 'utf8'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(eventJson);
    } catch (cause) {
      throw new ChainBreak(seq, `event ${seq} is not JSON`, { cause });
    }
    const claimed = (parsed as { seq?: unknown; prev?: unknown } | null) ?? {};
    if (claimed.seq !== seq) throw new ChainBreak(seq, `event ${seq} claims another position`);
    if (claimed.prev !== this.prev) {
      // Event seq-1 no longer hashes to what event seq recorded: one of the two was altered.
      throw new ChainBreak(seq - 1, `the hash chain breaks at event ${seq - 1}: it no longer matches what event ${seq} recorded`);
    }
    if (storedLeaf !== undefined && storedLeaf.length > 0 && !leaf.equals(storedLeaf)) {
      throw new ChainBreak(seq, `the hash chain breaks at event ${seq}: its stored leaf hash does not match its content`);
    }
    let event: LoggedEvent;
    try {
      event = loggedEventFrom(parsed);
    } catch (cause) {
      throw new ChainBreak(seq, `event ${seq} is malformed: ${(cause as EventMalformed).message}`, { cause });
    }
    this.acc.push(leaf);
    this.prev = leaf.toString('base64');
    return { event, leaf };
  }

  root(): Buffer {
    return this.acc.root();
  }
}
