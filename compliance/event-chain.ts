/**
 * Checks a log's events in order, as they stream in, with flat memory: each sits at its position, links
 * to its predecessor's leaf hash, matches the leaf hash the gateway stored for it, and feeds the RFC 9162
 * root. `verify`, `export` and the bench all walk the log through this one class.
 */
import { hash } from 'node:crypto';
import { RootAccumulator } from './root-accumulator.js';
import { ChainBreak } from './errors.js';

export { ChainBreak };

export type BreakKind = 'missing' | 'json' | 'position' | 'link' | 'prev' | 'stored';

/** What to say when event `seq` fails a check; a broken link is reported at `seq - 1`. */
export function breakMessage(kind: BreakKind, seq: number): string {
  switch (kind) {
    case 'missing':
      return `event ${seq} is missing`;
    case 'json':
      return `event ${seq} is not JSON`;
    case 'position':
      return `event ${seq} claims another position`;
    case 'link':
      // Event seq-1 no longer hashes to what event seq recorded: one of the two was altered.
      return `the hash chain breaks at event ${seq - 1}: it no longer matches what event ${seq} recorded`;
    case 'prev':
      // The link fails and the event itself no longer matches its stored leaf: the edit is in this event.
      return `the hash chain breaks at event ${seq}: its prev field no longer names event ${seq - 1}, and its content no longer matches its stored leaf hash`;
    case 'stored':
      return `the hash chain breaks at event ${seq}: its stored leaf hash does not match its content`;
  }
}

export class EventChain {
  private readonly acc = new RootAccumulator();
  private prev = '';
  /** Scratch space for 0x00 || event bytes, grown as needed: one allocation for the whole walk. */
  private scratch = Buffer.alloc(64 * 1024);

  /** Events checked so far; the next must have this sequence number. */
  get size(): number {
    return this.acc.size;
  }

  /**
   * Checks the next event. `servedSeq` is the position the gateway says it has; `storedLeaf`, if the
   * gateway sent one, the leaf hash it keeps for it. Returns the event as parsed JSON (not yet checked
   * against the event schema: see `loggedEventFrom`) and its leaf hash. Throws `ChainBreak`.
   */
  push(servedSeq: number, eventJson: string, storedLeaf?: Uint8Array): { parsed: unknown; leaf: Buffer } {
    const seq = this.acc.size;
    if (servedSeq !== seq) throw new ChainBreak(seq, breakMessage('missing', seq));
    const leaf = this.leafOf(eventJson);
    let parsed: unknown;
    try {
      parsed = JSON.parse(eventJson);
    } catch (cause) {
      throw new ChainBreak(seq, breakMessage('json', seq), { cause });
    }
    const claimed = typeof parsed === 'object' && parsed !== null ? (parsed as { seq?: unknown; prev?: unknown }) : {};
    if (claimed.seq !== seq) throw new ChainBreak(seq, breakMessage('position', seq));
    if (claimed.prev !== this.prev) {
      if (storedLeaf !== undefined && storedLeaf.length > 0 && !leaf.equals(storedLeaf)) throw new ChainBreak(seq, breakMessage('prev', seq));
      throw new ChainBreak(seq - 1, breakMessage('link', seq));
    }
    if (storedLeaf !== undefined && storedLeaf.length > 0 && !leaf.equals(storedLeaf)) {
      throw new ChainBreak(seq, breakMessage('stored', seq));
    }
    this.acc.push(leaf);
    this.prev = leaf.toString('base64');
    return { parsed, leaf };
  }

  /** SHA-256(0x00 || UTF-8 of the event), as `leafHash`, without a buffer per event. */
  private leafOf(eventJson: string): Buffer {
    const max = 1 + eventJson.length * 3;
    if (this.scratch.length < max) this.scratch = Buffer.alloc(max);
    this.scratch[0] = 0x00;
    const written = this.scratch.write(eventJson, 1, 'utf8');
    return hash('sha256', this.scratch.subarray(0, 1 + written), 'buffer');
  }

  root(): Buffer {
    return this.acc.root();
  }
}
