/** `hdx gateway serve`: runs the gateway until SIGINT/SIGTERM. */
import type { Command } from 'commander';

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('run the exchange gateway');
  gateway
    .command('serve')
    .description('serve the hdx.v1 gRPC services with mutual TLS')
    .option('--data <dir>', 'the gateway folder made by `hdx keys init` (identity, keys; gateway.db is kept here)', process.env.HDX_GATEWAY_DIR ?? '.hdx-demo/exchange/gateway')
    .option('--db-dir <dir>', 'keep gateway.db somewhere else')
    .option('--registry <file>', 'party registry (default: registry.json beside the gateway folder)')
    .option('--listen <host:port>', 'listen address (default: from gateway.json)')
    .option('--seal-workers <n>', 'worker threads for sealing (default: one per core; 0: in-process)')
    .option('--profiles <dir>', 'extra de-identification profiles, validated at start')
    .option('--lease-seconds <n>', 'delivery lease before an unacknowledged transfer is re-delivered', '30')
    .option('--retention-days <n>', 'days to keep ciphertext, and decision tokens, after their recipient acknowledged them', '7')
    .option('--intake <file>', 'intake configuration: resident-ID systems, mappings of hospitals’ own extensions onto the standard amounts (docs/spec/v1/input-profile.md); checked before the gateway starts')
    .option('--max-submissions <n>', 'submissions in progress at once; more are refused with UNAVAILABLE (retry with backoff)', '64')
    .action(async (opts: Record<string, string | undefined>) => {
      const intake = opts.intake ? (await import('../profile/intake.js')).loadIntakeConfig(opts.intake) : undefined;
      const { startGateway } = await import('./server.js');
      const running = await startGateway({
        gatewayDir: opts.data!,
        ...(opts.dbDir ? { dataDir: opts.dbDir } : {}),
        ...(opts.registry ? { registryPath: opts.registry } : {}),
        ...(opts.listen ? { listen: opts.listen } : {}),
        ...(opts.sealWorkers !== undefined ? { sealWorkers: Number(opts.sealWorkers) } : {}),
        ...(opts.profiles ? { profilesDir: opts.profiles } : {}),
        settings: {
          leaseMs: Number(opts.leaseSeconds) * 1000,
          retentionMs: Number(opts.retentionDays) * 24 * 3600 * 1000,
          maxSubmissionsInFlight: Number(opts.maxSubmissions),
          ...(intake && { intake }),
        },
      });
      process.stderr.write(`hdx gateway listening on port ${running.port}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.stop();
    });
}
