/**
 * The gateway's side of the settlement bench, in its own process (as on its own machine), so its CPU and
 * its RSS are its own and not the bench's: serves until told to stop, then hands back its CPU from 'go'
 * and its own timestamps of the measured records (accepted → delivered → acknowledged → decided).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { partyChannel } from './channel.js';
import type { StageRow } from './lines.js';
import pg from 'pg';
import { startGateway } from '../../gateway/server.js';
import { clientConfig } from '../../gateway/storage/postgres/connect.js';

export interface GatewayBenchResult {
  type: 'result';
  cpuMs: number;
  /** CPU of the event-loop thread alone (gRPC, TLS, validation, SQL, audit), from 'go'. */
  mainThreadCpuMs: number;
  /** Group commits (one fsync each) from 'go', the state changes they carried, and the time they held the event loop. */
  commits: { batches: number; items: number; seconds: number };
  rows: StageRow[];
}

const port = partyChannel();
const { gatewayDir, dataDir, sealWorkers, postgres } = port.config as { gatewayDir: string; dataDir: string; sealWorkers?: number; postgres?: string };
// The gateway logs a line per call as in production, to a sink that costs what a file would.
const sink = pino.destination({ dest: '/dev/null', sync: false });
const gateway = await startGateway({
  gatewayDir,
  dataDir,
  listen: '127.0.0.1:0',
  ...(postgres !== undefined && { postgres }),
  metricsListen: '127.0.0.1:0',
  logger: pino({ level: 'info' }, sink),
  ...(sealWorkers !== undefined && { sealWorkers }),
});
port.send({ type: 'ready', port: gateway.port });

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
/** The main thread's user + system CPU in ms (Linux /proc; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
/** The committer's counters, from the gateway's own /metrics. */
async function commitCounters() {
  const text = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
  const value = (name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? Number.NaN);
  return { batches: value('hdx_commit_batch_size_count'), items: value('hdx_commit_batch_size_sum'), seconds: value('hdx_commit_duration_seconds_sum') };
}

/** The measured transfers' stage times from PostgreSQL (BIGINT ms, parsed as numbers by clientConfig). */
async function stageRowsOf(url: string, from: number): Promise<StageRow[]> {
  const client = new pg.Client(clientConfig(url));
  await client.connect();
  try {
    return (await client.query<StageRow>(`${STAGES} $1`, [from])).rows;
  } finally {
    await client.end();
  }
}

await port.next(); // 'go'
const cpuFrom = process.cpuUsage();
const mainFrom = mainThreadCpuMs();
const commitsFrom = await commitCounters();
const { measuredFrom } = (await port.next()) as { measuredFrom: number };
const cpu = process.cpuUsage(cpuFrom);
const mainThread = mainThreadCpuMs() - mainFrom;
const commitsTo = await commitCounters();
const commits = {
  batches: commitsTo.batches - commitsFrom.batches,
  items: commitsTo.items - commitsFrom.items,
  seconds: commitsTo.seconds - commitsFrom.seconds,
};
const STAGES = `SELECT created_at AS created, delivered_at AS delivered, acknowledged_at AS acknowledged, decided_at AS decided
    FROM transfers WHERE created_at >=`;
const rows = postgres === undefined
  ? (gateway.gateway.db.prepare(`${STAGES} ?`).all(measuredFrom) as StageRow[])
  : await stageRowsOf(postgres, measuredFrom);
await gateway.stop();
sink.end();
port.finish({ type: 'result', cpuMs: (cpu.user + cpu.system) / 1000, mainThreadCpuMs: mainThread, commits, rows } satisfies GatewayBenchResult);
