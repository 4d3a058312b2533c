/**
 * The failover scenario (issue 12 item 4), shared by test/postgres/failover-rounds.test.ts and `npm run
 * test:failover`: three real gateway processes (`hdx gateway serve --postgres`, real mTLS, one port each) on
 * one PostgreSQL database; a real hospital adapter submitting and following decisions, a real insurer
 * adapter pulling and deciding, each given every address (in an order that puts the replica killed first
 * in front, so both must fail over). Each round SIGKILLs a replica that does not lead, then the leader
 * (the holder of the engine's advisory lock in pg_locks, told apart by the application_name each replica's
 * URL sets), and restarts them. What it measures is returned; the caller asserts or prints.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { verifyLog, type VerifyReport } from '../../compliance/verify.js';
import { openComplianceSession } from '../../compliance/session.js';
import { LOCK_CLASS, LOCKS } from '../../gateway/storage/postgres/locks.js';
import { followDecisions } from '../../hospital-adapter/decisions.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { initExchange } from '../../keys/exchange/init.js';
import { freePort, startGatewayProcess, stopProcess } from './gateway-process.js';
import { startSubmitting } from './submit-load.js';

export interface FailoverOptions {
  /** An empty folder for the exchange, the replicas' lock folders and the adapters' inboxes. */
  root: string;
  /** An empty PostgreSQL database (libpq URL). */
  postgresUrl: string;
  /** Rounds of (kill a follower, kill the leader, restart both). */
  rounds: number;
  /** Hospital submitters at once (each: grant a consent, submit its record, again). */
  submitters: number;
  /** Submissions acknowledged between one step and the next (the load the survivors must carry). */
  progress?: number;
  /** Give up on a condition after this long (the script); the test waits for its own timeout. */
  patienceMs?: number;
  log?: (line: string) => void;
}

export interface FailoverResult {
  kills: { followers: number; leaders: number };
  leaderChanges: number;
  acknowledged: number;
  transfers: number;
  found: number;
  lost: number;
  /** `deliveries`: transfers offered again after the insurer's acknowledgement was confirmed. */
  duplicates: { submissions: number; transfers: number; deliveries: number; decisions: number; atHospital: number };
  /** Transfers offered more than once before their acknowledgement held (leases run out: at least once). */
  redelivered: number;
  /** Acknowledged transfers the insurer stored and acknowledged, decided, and whose decision the hospital has. */
  delivered: number;
  decided: number;
  atHospital: number;
  reconnects: { hospital: number; insurer: number };
  notAcknowledged: Map<string, number>;
  /** The officer's verification before the kills (saves the checkpoint) and after (consistent with it). */
  before: VerifyReport;
  after: VerifyReport;
  /** Signed checkpoint sizes: when the officer saved, when each leader died, and at the end. */
  checkpoints: { saved: number; atLeaderDeaths: number[]; grewAfter: boolean[]; final: number; events: number };
}

interface Replica {
  name: string;
  port: number;
  child?: ChildProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LEASE_MS = 2_000; // --lease-seconds 2: what a killed replica's leases cost before redelivery

export async function runFailover(options: FailoverOptions): Promise<FailoverResult> {
  const log = options.log ?? (() => {});
  const progress = options.progress ?? 3;
  const summary = await initExchange(join(options.root, 'exchange'));
  const gatewayDir = summary.gateway.dir;
  const partyDir = (id: string) => join(options.root, 'exchange', 'parties', id);
  const sql = new pg.Client({ connectionString: options.postgresUrl });
  await sql.connect();

  /** Polls `predicate` (sync or async) until it holds; names `what` if patience runs out. */
  const until = async (what: string, predicate: () => boolean | Promise<boolean>) => {
    const deadline = options.patienceMs === undefined ? Infinity : Date.now() + options.patienceMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
      await sleep(50);
    }
  };

  const replicas: Replica[] = [];
  for (const name of ['a', 'b', 'c']) replicas.push({ name: `hdx-replica-${name}`, port: await freePort() });
  const separator = options.postgresUrl.includes('?') ? '&' : '?';
  const start = async (replica: Replica) => {
    replica.child = await startGatewayProcess([
      '--data', gatewayDir,
      // Each replica its own folder (the folder lock keeps one process per folder); the state is in PostgreSQL.
      '--db-dir', join(options.root, replica.name),
      '--postgres', `${options.postgresUrl}${separator}application_name=${replica.name}`,
      '--listen', `127.0.0.1:${replica.port}`,
      '--seal-workers', '1',
      '--lease-seconds', String(LEASE_MS / 1000),
    ]);
  };
  const kill = async (replica: Replica) => {
    await stopProcess(replica.child!, 'SIGKILL');
    replica.child = undefined;
  };
  /** The replica whose session holds the leader lease now (pg_locks), if any. */
  const leader = async (): Promise<Replica | undefined> => {
    const { rows } = await sql.query<{ name: string }>(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2`,
      [LOCK_CLASS, LOCKS.leader],
    );
    return replicas.find((r) => r.name === rows[0]?.name);
  };
  const count = async (query: string, values: unknown[] = []) => Number((await sql.query<{ n: string }>(query, values)).rows[0]!.n);
  const signedSize = () => count('SELECT coalesce(max(tree_size), 0) AS n FROM checkpoints');

  // The first replica migrates the schema; the others find it done.
  for (const replica of replicas) await start(replica);
  let current: Replica | undefined;
  await until('a replica takes the leader lease', async () => (current = await leader()) !== undefined);
  log(`leader: ${current!.name}`);
  const followers = replicas.filter((r) => r !== current);
  const addresses = (order: Replica[]) => order.map((r) => `localhost:${r.port}`).join(',');
  // The follower killed first is in front for both adapters; after it, the hospital reaches the leader and
  // the insurer the other follower, so the leader's death moves the hospital again and decisions cross replicas.
  const hospital = await openHospitalSession(partyDir('nanshan-people'), addresses([followers[0]!, current!, followers[1]!]));
  const insurer = await openInsurerSession(partyDir('taikang-online'), addresses([followers[0]!, followers[1]!, current!]));
  const officerAddresses = addresses([followers[1]!, followers[0]!, current!]);
  const statePath = join(options.root, 'officer', 'state.json');
  const load = startSubmitting(hospital, { submitters: options.submitters, seed: 20261203 });
  const { acknowledged, notAcknowledged } = load;

  const abort = new AbortController();
  const deliveries = new Map<string, number>(); // transfer → times stored and acknowledged
  // Delivery is at least once: a transfer whose lease ran out before its acknowledgement landed (a killed
  // replica's, or a slow insurer's) is offered again. What must never happen is an offer after the insurer
  // was told its acknowledgement holds. The offers are seen where the adapter reads its stream, which may be
  // long after they were sent (the stream buffers while the adapter is busy), so an offer's lease start
  // (its expiry less the 2 s lease; one host, one clock) is compared with when the acknowledgement held.
  const offers = new Map<string, number>();
  const acknowledgedAt = new Map<string, number>();
  let offeredAfterAck = 0;
  const delivery = insurer.clients.delivery;
  const pull = delivery.pullTransfers.bind(delivery);
  delivery.pullTransfers = ((...args: Parameters<typeof pull>) => {
    const stream = pull(...args);
    const iterate = stream[Symbol.asyncIterator].bind(stream);
    stream[Symbol.asyncIterator] = async function* () {
      for await (const message of iterate() as AsyncIterable<{ transfer?: { transferId: string; leaseExpiresAt?: Date } }>) {
        const id = message.transfer?.transferId;
        if (id !== undefined) {
          offers.set(id, (offers.get(id) ?? 0) + 1);
          const leasedAt = (message.transfer!.leaseExpiresAt?.getTime() ?? Infinity) - LEASE_MS;
          if (leasedAt > (acknowledgedAt.get(id) ?? Infinity)) offeredAfterAck += 1;
        }
        yield message;
      }
    } as typeof stream[typeof Symbol.asyncIterator];
    return stream;
  }) as typeof delivery.pullTransfers;
  const decided = new Set<string>();
  const atHospital = new Map<string, number>(); // transfer → decisions the hospital received
  const reconnects = { hospital: 0, insurer: 0 };
  const insurerDone = pullAndDecide(insurer, {
    outDir: join(options.root, 'inbox'),
    follow: true,
    concurrency: 4,
    rules: adjudicate,
    signal: abort.signal,
    onOutcome: (o) => {
      if (!o.ok || o.received.acknowledgementPending) return;
      deliveries.set(o.transferId, (deliveries.get(o.transferId) ?? 0) + 1);
      if (!acknowledgedAt.has(o.transferId)) acknowledgedAt.set(o.transferId, Date.now());
    },
    onDecision: (d) => void (d.ok && decided.add(d.transferId)),
    onReconnect: () => void (reconnects.insurer += 1),
  });
  const hospitalDone = followDecisions(hospital, {
    outDir: join(options.root, 'his'),
    follow: true,
    signal: abort.signal,
    onDecision: (e) => {
      if (e.ok) atHospital.set(e.decision.transferId, (atHospital.get(e.decision.transferId) ?? 0) + 1);
    },
    onReconnect: () => void (reconnects.hospital += 1),
  });

  /** Waits until the load went on: `progress` more submissions acknowledged, a decision more at the hospital. */
  const loadGoesOn = async (what: string) => {
    const [submitted, settled] = [acknowledged.size, atHospital.size];
    await until(`${what}: submissions acknowledged`, () => acknowledged.size >= submitted + progress);
    await until(`${what}: a decision reaches the hospital`, () => atHospital.size > settled);
  };

  let result: FailoverResult | undefined;
  try {
    await loadGoesOn('before the kills');
    // The officer saves a checkpoint before anything is killed.
    const saved = await signedSize();
    await until('a checkpoint newer than the first', async () => (await signedSize()) > saved);
    const officer = openComplianceSession(partyDir('szdex'), { address: officerAddresses });
    const before = await verifyLog(officer, { statePath, full: true });
    officer.close();
    log(`officer saved the checkpoint at size ${before.treeSize}`);

    const kills = { followers: 0, leaders: 0 };
    let leaderChanges = 0;
    const atLeaderDeaths: number[] = [];
    const grewAfter: boolean[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const lead = await leader();
      if (!lead) throw new Error('no replica leads');
      const follower = round === 0 ? followers[0]! : replicas.find((r) => r !== lead && r.child)!;
      await sleep(Math.random() * 300);
      await kill(follower);
      kills.followers += 1;
      log(`round ${round + 1}: killed ${follower.name} (follower), ${acknowledged.size} acknowledged so far`);
      await loadGoesOn(`after ${follower.name} was killed`);

      const size = await signedSize();
      atLeaderDeaths.push(size);
      await sleep(Math.random() * 300);
      await kill(lead);
      kills.leaders += 1;
      log(`round ${round + 1}: killed ${lead.name} (leader) at checkpoint ${size}, ${acknowledged.size} acknowledged so far`);
      let next: Replica | undefined;
      // The dead leader's session may hold the lock until PostgreSQL sees its socket close.
      await until('another replica takes the leader lease', async () => (next = await leader()) !== undefined && next !== lead);
      leaderChanges += 1;
      log(`round ${round + 1}: ${next!.name} leads`);
      await loadGoesOn(`after the leader ${lead.name} was killed`);
      await until('checkpoints grow after the leader died', async () => (await signedSize()) > size);
      grewAfter.push(true);

      await start(follower);
      await start(lead);
      log(`round ${round + 1}: restarted ${follower.name} and ${lead.name}`);
    }

    await load.stop();
    const expected = [...acknowledged.values()].flat();
    // Everything acknowledged reaches the insurer, is decided, and the decision reaches the hospital
    // (a transfer whose acknowledgement was lost comes back once its 2 s lease ends).
    await until('every acknowledged transfer delivered, decided and settled at the hospital', () =>
      expected.every((t) => deliveries.has(t) && decided.has(t) && atHospital.has(t)),
    );
    // Every event integrated and signed (by whichever replica leads now).
    const events = () => count('SELECT count(*) AS n FROM audit_events');
    await until('a checkpoint covering every event', async () => (await signedSize()) === (await events()));
    const officerAfter = openComplianceSession(partyDir('szdex'), { address: officerAddresses });
    const after = await verifyLog(officerAfter, { statePath, full: true });
    officerAfter.close();

    const ids = [...acknowledged.keys()];
    const found = await count('SELECT count(*) AS n FROM submissions WHERE submission_id = ANY($1::text[])', [ids]);
    const duplicateCount = (query: string) => count(`SELECT count(*) AS n FROM (${query}) d`);
    result = {
      kills,
      leaderChanges,
      acknowledged: acknowledged.size,
      transfers: expected.length,
      found,
      lost: acknowledged.size - found,
      duplicates: {
        submissions: await duplicateCount('SELECT bundle_digest FROM submissions GROUP BY bundle_digest HAVING count(*) > 1'),
        transfers: await duplicateCount('SELECT submission_id FROM transfers GROUP BY submission_id, insurer_id HAVING count(*) > 1'),
        deliveries: offeredAfterAck,
        decisions: await duplicateCount('SELECT transfer_id FROM decisions GROUP BY transfer_id HAVING count(*) > 1'),
        atHospital: [...atHospital.values()].filter((n) => n > 1).length,
      },
      redelivered: [...offers.values()].filter((n) => n > 1).length,
      delivered: expected.filter((t) => deliveries.has(t)).length,
      decided: expected.filter((t) => decided.has(t)).length,
      atHospital: expected.filter((t) => atHospital.has(t)).length,
      reconnects,
      notAcknowledged,
      before,
      after,
      checkpoints: { saved: before.treeSize, atLeaderDeaths, grewAfter, final: await signedSize(), events: await events() },
    };
    return result;
  } finally {
    await load.stop();
    abort.abort();
    await Promise.allSettled([insurerDone, hospitalDone]);
    hospital.close();
    insurer.close();
    await Promise.all(replicas.map((r) => (r.child ? stopProcess(r.child, 'SIGTERM') : undefined)));
    await sql.end();
  }
}
