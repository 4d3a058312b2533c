/**
 * The gateway's side of the settlement bench, in its own process (as on its own machine), so its CPU and
 * its RSS are its own and not the bench's: serves until told to stop, then hands back its CPU from 'go'
 * and its own timestamps of the measured records (accepted → delivered → acknowledged → decided).
 */
import { pino } from 'pino';
import { partyChannel } from './channel.js';
import type { StageRow } from './lines.js';
import { startGateway } from '../../gateway/server.js';

export interface GatewayBenchResult {
  type: 'result';
  cpuMs: number;
  rows: StageRow[];
}

const port = partyChannel();
const { gatewayDir, dataDir, sealWorkers } = port.config as { gatewayDir: string; dataDir: string; sealWorkers?: number };
// The gateway logs a line per call as in production, to a sink that costs what a file would.
const sink = pino.destination({ dest: '/dev/null', sync: false });
const gateway = await startGateway({
  gatewayDir,
  dataDir,
  listen: '127.0.0.1:0',
  logger: pino({ level: 'info' }, sink),
  ...(sealWorkers !== undefined && { sealWorkers }),
});
port.send({ type: 'ready', port: gateway.port });
await port.next(); // 'go'
const cpuFrom = process.cpuUsage();
const { measuredFrom } = (await port.next()) as { measuredFrom: number };
const cpu = process.cpuUsage(cpuFrom);
const rows = gateway.gateway.db
  .prepare(`SELECT created_at AS created, delivered_at AS delivered, acknowledged_at AS acknowledged, decided_at AS decided
    FROM transfers WHERE created_at >= ?`)
  .all(measuredFrom) as StageRow[];
await gateway.stop();
sink.end();
port.finish({ type: 'result', cpuMs: (cpu.user + cpu.system) / 1000, rows } satisfies GatewayBenchResult);
