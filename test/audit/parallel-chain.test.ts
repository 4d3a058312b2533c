/**
 * The chain check spread over worker threads gives the serial check's verdicts: the same root, and
 * the same first failure (position and message) wherever it falls — inside a block, on a block
 * boundary, in the last partial block.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createTreeStore, nodesOfRuns } from '../../gateway/audit/tree-store.js';
import { ChainBreak, EventChain } from '../../compliance/event-chain.js';
import { ParallelEventChain, type ServedEvent } from '../../compliance/parallel-chain.js';
import { packEvents } from '../../gateway/audit/packed-events.js';
import { canonicalJson } from '../../keys/canonical.js';
import { leafHash, rootFromLeaves } from '../../keys/transparency/index.js';

/** Small blocks, so that a few hundred events span several (the real size is 4,096). */
const BLOCK = 64;
const SIZE = 3 * BLOCK + 23;

const served: ServedEvent[] = [];
{
  let prev = '';
  for (let seq = 0; seq < SIZE; seq++) {
    const eventJson = canonicalJson({ v: 1, seq, at: '2026-11-20T08:00:00.000Z', prev, action: 'transfer.deliver', actor: 'taikang-online', outcome: 'ok', transfer: `trf_${seq}` });
    const leaf = leafHash(Buffer.from(eventJson));
    served.push({ seq, eventJson, leafHash: leaf });
    prev = leaf.toString('base64');
  }
}

function serial(events: ServedEvent[]): { root?: Buffer; error?: ChainBreak } {
  const chain = new EventChain();
  try {
    for (const e of events) chain.push(e.seq, e.eventJson, e.leafHash);
    return { root: chain.root() };
  } catch (error) {
    return { error: error as ChainBreak };
  }
}

type Node = { level: number; index: number; hash: string };

/**
 * `packed`: each page of 50 as the gateway answers a packed ListEvents (`packEvents`), or one event
 * per message where it cannot pack (a stored leaf missing, a gap).
 */
async function parallel(events: ServedEvent[], workers: number, nodes?: Node[], packed = false): Promise<{ root?: Buffer; error?: ChainBreak }> {
  const onNode = nodes && ((level: number, index: number, hash: Buffer) => void nodes.push({ level, index, hash: hash.toString('base64') }));
  const chain = new ParallelEventChain({ workers, block: BLOCK, ...(onNode ? { onNode } : {}) });
  try {
    for (let i = 0; i < events.length; i += 50) {
      const page = events.slice(i, i + 50);
      const rows = page.every((e) => e.leafHash) && packEvents(page.map((e) => ({ seq: e.seq, event_json: e.eventJson, leaf_hash: Buffer.from(e.leafHash!) })));
      await (packed && rows ? chain.pushPacked(rows) : chain.push(page));
    }
    return { root: await chain.finish() };
  } catch (error) {
    return { error: error as ChainBreak };
  } finally {
    chain.close();
  }
}

describe('ParallelEventChain', () => {
  it('reproduces the root of an intact log on 2 workers and inline', async () => {
    const expected = rootFromLeaves(served.map((e) => e.leafHash!));
    for (const [workers, packed] of [[2, false], [0, false], [2, true], [0, true]] as const) {
      const { root, error } = await parallel(served, workers, undefined, packed);
      expect(error).toBeUndefined();
      expect(root!.equals(expected)).toBe(true);
    }
  });

  it('reports every Merkle node in the order, and with the hashes, the gateway’s tree store writes them', async () => {
    const db = new Database(':memory:');
    const store = createTreeStore(db);
    db.transaction(() => served.forEach((e) => store.append(e.leafHash!)))();
    const stored = nodesOfRuns(store.nodes(0, SIZE)).map((n) => ({ level: n.level, index: n.index, hash: n.hash.toString('base64') }));
    expect(stored.length).toBe(2 * SIZE - [...SIZE.toString(2)].filter((b) => b === '1').length);
    // Any page boundary gives the same rows: the pages concatenated are the whole.
    expect(nodesOfRuns([...store.nodes(0, 77), ...store.nodes(77, 150), ...store.nodes(150, SIZE)])).toEqual(nodesOfRuns(store.nodes(0, SIZE)));
    db.close();
    for (const workers of [2, 0]) {
      const nodes: Node[] = [];
      const { root } = await parallel(served, workers, nodes);
      expect(root!.equals(rootFromLeaves(served.map((e) => e.leafHash!)))).toBe(true);
      expect(nodes).toEqual(stored);
    }
  });

  const tampers: Array<[string, (events: ServedEvent[]) => void]> = [
    ['an event changed inside a block', (e) => void (e[100] = { ...e[100]!, eventJson: e[100]!.eventJson.replace('"ok"', '"refused"') })],
    ['the last event of a block changed', (e) => void (e[BLOCK - 1] = { ...e[BLOCK - 1]!, eventJson: e[BLOCK - 1]!.eventJson.replace('"ok"', '"refused"'), leafHash: undefined })],
    ['the first event of a block with a broken link', (e) => void (e[2 * BLOCK] = { ...e[2 * BLOCK]!, eventJson: e[2 * BLOCK]!.eventJson.replace('"prev":"', '"prev":"A'), leafHash: undefined })],
    ['an event missing at a block boundary', (e) => void e.splice(BLOCK, 1)],
    ['a stored leaf wrong in the last partial block', (e) => void (e[SIZE - 5] = { ...e[SIZE - 5]!, leafHash: Buffer.alloc(32) })],
    ['the first event of a block not JSON', (e) => void (e[BLOCK] = { ...e[BLOCK]!, eventJson: '{' })],
    ['two failures: the earlier one is reported', (e) => {
      e[3 * BLOCK + 7] = { ...e[3 * BLOCK + 7]!, eventJson: '{' };
      e[BLOCK + 9] = { ...e[BLOCK + 9]!, leafHash: Buffer.alloc(32) };
    }],
  ];
  for (const [what, tamper] of tampers) {
    it(`${what}: same position and message as the serial check`, async () => {
      const events = served.slice();
      tamper(events);
      const expected = serial(events).error;
      expect(expected).toBeInstanceOf(ChainBreak);
      for (const packed of [false, true]) {
        const { error } = await parallel(events, 2, undefined, packed);
        expect(error).toBeInstanceOf(ChainBreak);
        expect({ seq: error!.seq, message: error!.message }).toEqual({ seq: expected!.seq, message: expected!.message });
      }
    });
  }
});
