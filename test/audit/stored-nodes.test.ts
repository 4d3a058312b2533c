/**
 * The stored Merkle nodes (issue 14.9b). The gateway serves inclusion and consistency proofs from the
 * subtree hashes in `merkle_nodes`, not from the events; recomputing the root from the events proves
 * the events only. Here one real row of a stopped gateway's database (SQLite's file or PostgreSQL's table) is edited: a proof served through it is
 * rejected by the offline checker, and `hdx audit verify` — which passed before the edit — now fails,
 * naming the node.
 */
import { status } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParallelEventChain } from '../../compliance/parallel-chain.js';
import { PROOF_FORMAT, proveEvent, type InclusionProofFile } from '../../compliance/proofs.js';
import { StoredTreeCheck } from '../../compliance/stored-tree.js';
import { verifyLog } from '../../compliance/verify.js';
import { unaryCall } from '../../proto/connect.js';
import { clientConfig } from '../../gateway/storage/postgres/connect.js';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { storeDatabaseUrl } from '../support/postgres.js';
import { testEngine } from '../support/stores.js';
import { allEvents, populate, restartableGateway, runAuditCli } from './support.js';
import { dropAppendOnlyTriggers } from './tamper.js';

let ex: TestExchange;
let g: ReturnType<typeof restartableGateway>;
let dataDir: string;
let size: number;
const identity = () => ex.partyDir('szdex');
const statePath = () => join(ex.root, 'officer.json');

/** What the gateway serves for event `seq`, written as a proof file without the officer's tool checking it. */
async function servedProofFile(seq: number, name: string): Promise<string> {
  const audit = g.s.regulator.clients.audit;
  const { checkpoint, treeSize } = await unaryCall(audit, audit.getCheckpoint, {});
  const served = await unaryCall(audit, audit.getInclusionProof, { seq, treeSize });
  const file: InclusionProofFile = {
    format: PROOF_FORMAT,
    origin: g.s.regulator.origin,
    checkpoint,
    logVerifierKey: g.s.regulator.verifierKey,
    seq,
    treeSize,
    event: served.event!.eventJson,
    proof: served.proof.map((p) => Buffer.from(p).toString('base64')),
  };
  const path = join(ex.root, name);
  writeFileSync(path, JSON.stringify(file));
  return path;
}

/** The officer's node check alone, over every event, asking `span` leaves' nodes at a time. */
async function checkNodes(span: number): Promise<StoredTreeCheck> {
  const tree = new StoredTreeCheck(g.s.regulator, span);
  // Blocks of 4: the inner nodes come as level arrays (onLevels), the rest one by one (onNode).
  const chain = new ParallelEventChain({ workers: 0, block: 4, onNode: tree.recomputed, onLevels: tree.recomputedLevels });
  const events = await allEvents(g.s.regulator);
  for (let i = 0; i < events.length; i += 3) {
    await chain.push(events.slice(i, i + 3));
    await tree.compare();
  }
  await chain.finish();
  await tree.compare(true);
  return tree;
}

/**
 * Flips a bit of one stored node of the stopped gateway, as someone with write access to its database
 * would: SQLite's file with the append-only triggers dropped, or PostgreSQL's table with its trigger off.
 */
async function editStoredNode(level: number, idx: number, edit: (hash: Buffer) => void): Promise<void> {
  if (testEngine() === 'postgres') {
    const client = new pg.Client(clientConfig(await storeDatabaseUrl(dataDir)));
    await client.connect();
    try {
      await client.query('ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_append_only');
      const { rows } = await client.query<{ hash: Buffer }>('SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2', [level, idx]);
      const edited = Buffer.from(rows[0]!.hash);
      edit(edited);
      expect((await client.query('UPDATE merkle_nodes SET hash = $1 WHERE level = $2 AND idx = $3', [edited, level, idx])).rowCount).toBe(1);
      await client.query('ALTER TABLE merkle_nodes ENABLE TRIGGER merkle_nodes_append_only');
    } finally {
      await client.end();
    }
    return;
  }
  const db = new Database(join(dataDir, 'gateway.db'));
  try {
    dropAppendOnlyTriggers(db);
    const { hash } = db.prepare('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?').get(level, idx) as { hash: Buffer };
    const edited = Buffer.from(hash);
    edit(edited);
    expect(db.prepare('UPDATE merkle_nodes SET hash = ? WHERE level = ? AND idx = ?').run(edited, level, idx).changes).toBe(1);
  } finally {
    db.close();
  }
}

const verifyCli = () => runAuditCli('audit', 'verify', '--identity', identity(), '--gateway', g.gw.address, '--state', statePath());
const checkProofCli = (path: string) => runAuditCli('audit', 'check-proof', path, '--log-key', g.s.regulator.verifierKey);

beforeAll(async () => {
  ex = await createTestExchange();
  dataDir = join(ex.root, 'gateway-data');
  g = restartableGateway(ex, dataDir);
  await g.start();
  await populate(ex, g.s, 4);
  size = (await verifyLog(g.s.regulator, { statePath: join(ex.root, 'first.json') })).treeSize;
  // Event 0's proof reads node (level 2, index 1) only if the tree holds events 4–7.
  expect(size).toBeGreaterThanOrEqual(8);
}, 60_000);

afterAll(async () => {
  await g?.stop();
  ex?.cleanup();
});

describe('an edited stored Merkle node', () => {
  it('ListTreeNodes answers in the order appends write the nodes, and refuses sizes beyond the log', async () => {
    const audit = g.s.regulator.clients.audit;
    await expect(unaryCall(audit, audit.listTreeNodes, { fromSize: 0, toSize: size + 1_000 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(unaryCall(audit, audit.listTreeNodes, { fromSize: 3, toSize: 2 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const { runs } = await unaryCall(audit, audit.listTreeNodes, { fromSize: 2, toSize: 4 });
    expect(runs.map((r) => [r.level, r.firstIndex, r.hashes.length])).toEqual([[0, 2, 64], [1, 1, 32], [2, 0, 32]]);
  });

  it('the officer compares every stored node whatever the span of its requests', async () => {
    const events = (await allEvents(g.s.regulator)).length;
    const stored = 2 * events - [...events.toString(2)].filter((b) => b === '1').length;
    for (const span of [1, 4, 7, 10_000]) {
      const tree = await checkNodes(span);
      expect(tree.failure, `span ${span}`).toBeUndefined();
      expect(tree.compared, `span ${span}`).toBe(stored);
    }
  });

  it('passes before the edit; after it a served proof is rejected and verify names the node', async () => {
    const before = await verifyCli();
    expect(before.exitCode).toBe(0);
    expect(before.out).toMatch(/Merkle tree nodes the gateway stores for them match/);
    expect((await checkProofCli(await servedProofFile(0, 'before.json'))).exitCode).toBe(0);

    await g.stop();
    await editStoredNode(2, 1, (hash) => {
      hash[17] = hash[17]! ^ 0x01;
    });
    await g.start();

    // A third party given what the gateway now serves rejects it; the officer's own `prove` refuses too.
    const rejected = await checkProofCli(await servedProofFile(0, 'after.json'));
    expect(rejected.exitCode).toBe(1);
    expect(rejected.out).toMatch(/^✗ /);
    await expect(proveEvent(g.s.regulator, 0)).rejects.toThrow();

    const after = await verifyCli();
    expect(after.exitCode).toBe(1);
    expect(after.out).toContain('✗ tree nodes: stored tree node (level 2, index 1) covering events 4–7 does not match the events\n');
    // The events themselves are intact, and the report says so before naming the node.
    expect(after.out).toContain('✓ the log is unchanged since the saved checkpoint');
    const newcomer = await verifyLog(g.s.regulator, { statePath: join(ex.root, 'newcomer.json') });
    expect(newcomer.failure).toBe('tree nodes: stored tree node (level 2, index 1) covering events 4–7 does not match the events');
    for (const span of [1, 5]) expect((await checkNodes(span)).failure).toBe('stored tree node (level 2, index 1) covering events 4–7 does not match the events');
  });
});
