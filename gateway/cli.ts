/**
 * `hdx gateway serve`: runs the gateway as a service (cli/runtime/service.ts) until SIGINT/SIGTERM; its
 * settings come from flags, HDX_GATEWAY_… variables or `--config` (cli/runtime/settings.ts).
 * `hdx gateway backup|restore`: a consistent copy of the database while it serves, and putting one back.
 * `hdx gateway migrate --to postgres`: the exchange moved from SQLite into PostgreSQL, its log verified.
 */
import { Option, type Command } from 'commander';
import { runService } from '../cli/runtime/service.js';
import { mkdirSync } from 'node:fs';
import { addSettings, parseWith, type Setting } from '../cli/runtime/settings.js';
import { ValueError, existingPath, folder, listenAddress, wholeNumber, type Parse } from '../cli/runtime/values.js';

const DAY_MS = 24 * 3600 * 1000;

/** A libpq URL; the message never repeats the value (it may hold a password). */
const postgresUrl: Parse<string> = (value) => {
  if (typeof value !== 'string' || !/^postgres(ql)?:\/\/./.test(value)) throw new ValueError('must be a postgresql:// URL');
  return value;
};

export const SERVE_SETTINGS = {
  data: { flags: '--data <dir>', description: 'the gateway folder made by `hdx keys init` (identity, keys; gateway.db is kept here)', env: 'HDX_GATEWAY_DIR', parse: existingPath('folder'), default: '.hdx-demo/exchange/gateway' },
  dbDir: { flags: '--db-dir <dir>', description: 'keep gateway.db somewhere else', env: 'HDX_GATEWAY_DB_DIR', parse: folder },
  postgres: { flags: '--postgres <url>', description: 'keep the state in this PostgreSQL database (libpq URL, e.g. postgresql://hdx@db.internal/hdx) instead of gateway.db: for several replicas', env: 'HDX_GATEWAY_POSTGRES', parse: postgresUrl, secret: true },
  registry: { flags: '--registry <file>', description: 'party registry (default: registry.json beside the gateway folder)', env: 'HDX_GATEWAY_REGISTRY', parse: existingPath('file') },
  listen: { flags: '--listen <host:port>', description: 'listen address (default: from gateway.json)', env: 'HDX_GATEWAY_LISTEN', parse: listenAddress },
  sealWorkers: { flags: '--seal-workers <n>', description: 'worker threads for sealing (default: one per core but one, at least 1; 0: in-process)', env: 'HDX_GATEWAY_SEAL_WORKERS', parse: wholeNumber('threads', 0, 256) },
  metrics: { flags: '--metrics <host:port>', description: 'serve /metrics, /healthz and /readyz over plain HTTP here, e.g. 127.0.0.1:9464 (keep it off the parties’ network)', env: 'HDX_GATEWAY_METRICS', parse: listenAddress },
  profiles: { flags: '--profiles <dir>', description: 'extra de-identification profiles, validated at start', env: 'HDX_GATEWAY_PROFILES', parse: existingPath('folder') },
  leaseSeconds: { flags: '--lease-seconds <n>', description: 'delivery lease before an unacknowledged transfer is re-delivered', env: 'HDX_GATEWAY_LEASE_SECONDS', parse: wholeNumber('seconds', 1), default: 30 },
  retentionDays: { flags: '--retention-days <n>', description: 'days to keep ciphertext, and decision tokens, after their recipient acknowledged them', env: 'HDX_GATEWAY_RETENTION_DAYS', parse: wholeNumber('days', 1), default: 7 },
  intake: { flags: '--intake <file>', description: 'intake configuration: resident-ID systems, mappings of hospitals’ own extensions onto the standard amounts (docs/spec/v1/input-profile.md); checked before the gateway starts', env: 'HDX_GATEWAY_INTAKE', parse: existingPath('file') },
  maxSubmissions: { flags: '--max-submissions <n>', description: 'submissions in progress at once; more are refused with UNAVAILABLE (retry with backoff)', env: 'HDX_GATEWAY_MAX_SUBMISSIONS', parse: wholeNumber('submissions', 1), default: 64 },
} satisfies Record<string, Setting>;

interface ServeOptions {
  data: string;
  dbDir?: string;
  postgres?: string;
  registry?: string;
  listen?: string;
  sealWorkers?: number;
  metrics?: string;
  profiles?: string;
  intake?: string;
  leaseSeconds: number;
  retentionDays: number;
  maxSubmissions: number;
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('run the exchange gateway');
  const serve = gateway.command('serve').description('serve the hdx.v1 gRPC services with mutual TLS (SIGTERM or SIGINT: finish calls in flight, stop, exit 0)');
  addSettings(serve, SERVE_SETTINGS).action(async (opts: ServeOptions) => {
    const intake = opts.intake ? (await import('../profile/intake.js')).loadIntakeConfig(opts.intake) : undefined;
    // Loaded when the command runs: the server and its engines are most of hdx's start-up time otherwise.
    const { startGateway } = await import('./server.js');
    await runService({
      name: 'hdx gateway serve',
      async run({ signal, log }) {
        const running = await startGateway({
          gatewayDir: opts.data,
          ...(opts.dbDir !== undefined && { dataDir: opts.dbDir }),
          ...(opts.postgres !== undefined && { postgres: opts.postgres }),
          ...(opts.registry !== undefined && { registryPath: opts.registry }),
          ...(opts.listen !== undefined && { listen: opts.listen }),
          ...(opts.sealWorkers !== undefined && { sealWorkers: opts.sealWorkers }),
          ...(opts.profiles !== undefined && { profilesDir: opts.profiles }),
          ...(opts.metrics !== undefined && { metricsListen: opts.metrics }),
          settings: {
            leaseMs: opts.leaseSeconds * 1000,
            retentionMs: opts.retentionDays * DAY_MS,
            maxSubmissionsInFlight: opts.maxSubmissions,
            ...(intake && { intake }),
          },
        });
        const started = Date.now();
        const auditBefore = running.gateway.audit.size;
        log(`hdx gateway listening on port ${running.port}`);
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        const auditAfter = running.gateway.audit.size;
        await running.stop();
        return `served ${Math.round((Date.now() - started) / 1000)} s; audit log ${auditBefore} → ${auditAfter} events`;
      },
    });
  });

  const folders = (opts: { data: string; dbDir?: string }) => ({ gatewayDir: opts.data, ...(opts.dbDir !== undefined && { dataDir: opts.dbDir }) });
  const described = (check: { events: number; checkpointSize: number; rootHash: string }) =>
    `${check.events} audit events; the signed checkpoint at ${check.checkpointSize} verified against every event (root ${check.rootHash})`;
  gateway
    .command('backup')
    .description('copy the database, also while the gateway serves (SQLite online backup: one consistent snapshot), and verify the copy’s audit log')
    .argument('<file>', 'the backup file to write (must not exist)')
    .option('--data <dir>', SERVE_SETTINGS.data.description, parseWith(existingPath('folder')), SERVE_SETTINGS.data.default)
    .option('--db-dir <dir>', SERVE_SETTINGS.dbDir.description, parseWith(existingPath('folder')))
    .action(async (file: string, opts: { data: string; dbDir?: string }) => {
      const { backupDatabase } = await import('./backup.js');
      process.stdout.write(`backup ${file}: ${described(await backupDatabase(folders(opts), file))}\n`);
    });
  gateway
    .command('restore')
    .description('verify a backup’s audit log and put it in place of the database (the gateway must be stopped; the old database is kept beside)')
    .argument('<file>', 'a file written by `hdx gateway backup`', parseWith(existingPath('file')))
    .option('--data <dir>', SERVE_SETTINGS.data.description, parseWith(existingPath('folder')), SERVE_SETTINGS.data.default)
    .option('--db-dir <dir>', 'restore gateway.db into this folder (made if missing) instead of the gateway folder', parseWith(folder))
    .action(async (file: string, opts: { data: string; dbDir?: string }) => {
      const { restoreDatabase } = await import('./backup.js');
      if (opts.dbDir !== undefined) mkdirSync(opts.dbDir, { recursive: true, mode: 0o700 });
      const restored = restoreDatabase(file, folders(opts));
      process.stdout.write(`restored ${file}: ${described(restored)}${restored.replaced ? `; the previous database is kept as ${restored.replaced}` : ''}\n`);
    });
  gateway
    .command('migrate')
    .description('copy the exchange from gateway.db into an empty PostgreSQL database, committed only once the copy’s audit log verifies (the gateway must be stopped; gateway.db is left as it was)')
    .requiredOption('--to <engine>', 'the engine to move to: postgres', parseWith((value) => {
      if (value !== 'postgres') throw new ValueError('must be postgres');
      return value;
    }))
    .addOption(new Option(SERVE_SETTINGS.postgres.flags, 'the empty PostgreSQL database to move to (libpq URL)').env(SERVE_SETTINGS.postgres.env).argParser(parseWith(postgresUrl, SERVE_SETTINGS.postgres)).makeOptionMandatory())
    .option('--data <dir>', SERVE_SETTINGS.data.description, parseWith(existingPath('folder')), SERVE_SETTINGS.data.default)
    .option('--db-dir <dir>', SERVE_SETTINGS.dbDir.description, parseWith(existingPath('folder')))
    .action(async (opts: { postgres: string; data: string; dbDir?: string }) => {
      const { importSqlite } = await import('./storage/postgres/import-sqlite.js');
      const result = await importSqlite(folders(opts), opts.postgres);
      const copied = Object.entries(result.rows).map(([table, n]) => `${n} ${table}`).join(', ');
      process.stdout.write(`migrated to PostgreSQL: ${copied}; ${described(result)}\n`);
    });
}
