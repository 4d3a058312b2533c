/** `hdx audit console`: registered beside the other `hdx audit` commands; the server loads only when it runs. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function registerConsoleCommand(audit: Command): void {
  audit
    .command('console')
    .description('serve the regulator’s web console on 127.0.0.1: the log verified here, charts, evidence, exports, monthly report')
    .requiredOption('--identity <dir>', 'this regulator’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY)
    .option('--gateway <host:port>', 'gateway address (default: from party.json)')
    .option('--log-key <vkey>', 'the audit log’s C2SP verifier key (default: log.pub in the identity folder)')
    .option('--state <file>', 'the last verified checkpoint (default: <identity>/audit-state.json, shared with `hdx audit verify`)')
    .option('--registry <file>', 'your copy of the party registry, for the hop signatures (default: registry.json two folders up, if there)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', '0')
    .action(async (opts: { identity: string; gateway?: string; logKey?: string; state?: string; registry?: string; port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('--port must be 0–65535');
      const { openComplianceSession } = await import('../session.js');
      const { startConsole } = await import('./server.js');
      const session = openComplianceSession(opts.identity, {
        ...(opts.gateway ? { address: opts.gateway } : {}),
        ...(opts.logKey ? { verifierKey: opts.logKey } : {}),
      });
      const guessedRegistry = join(opts.identity, '..', '..', 'registry.json');
      const registryPath = opts.registry ?? (existsSync(guessedRegistry) ? guessedRegistry : undefined);
      process.stderr.write('verifying the audit log…\n');
      const running = await startConsole({
        session,
        statePath: opts.state ?? join(opts.identity, 'audit-state.json'),
        ...(registryPath ? { registryPath } : {}),
        port,
      });
      process.stdout.write(`hdx audit console at ${running.origin}\nopen this one-time link in your browser (it signs you in once):\n  ${running.loginUrl}\n`);
      const stop = () => {
        void running.close().then(() => {
          session.close();
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
