/**
 * Starts the gateway: loads its identity and the party registry, opens the database, and serves the
 * hdx.v1 services over gRPC with mutual TLS (client certificates required and checked against the
 * exchange CA). `stop()` drains calls, closes the sealing pool and the database.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { lockFolder } from '../cli/runtime/folder-lock.js';
import { loadGatewayIdentity } from '../keys/exchange/load.js';
import { publicJwkOf } from '../keys/jose-keys.js';
import { createNoteSigner, formatVerifierKey } from '../keys/transparency/index.js';
import { AuditServiceService } from '../proto/gen/hdx/v1/audit.js';
import { ConsentServiceService } from '../proto/gen/hdx/v1/consent.js';
import { withMillisecondCheck } from './transport/time-precision.js';
import { DeliveryServiceService } from '../proto/gen/hdx/v1/delivery.js';
import { DirectoryServiceService } from '../proto/gen/hdx/v1/directory.js';
import { RecordServiceService } from '../proto/gen/hdx/v1/records.js';
import { SettlementServiceService } from '../proto/gen/hdx/v1/settlement.js';
import { createGateway, type Gateway, type GatewaySettings } from './app.js';
import { Checkpointer } from './audit/checkpointer.js';
import { buildEvidence } from './audit/evidence.js';
import { createAuditService } from './audit/service.js';
import { purgeExpiredPayloads } from './delivery/service.js';
import { purgeExpiredDecisions } from './settlement/retention.js';
import { createLogger } from './logger.js';
import { RegistryParties, type RegistryChange } from './parties.js';
import { syncRegistry } from './registry-sync.js';
import { createSealer } from './seal/sealer.js';
import { createSigner } from './seal/signer.js';
import { GatewaySecrets } from './secrets.js';
import { openPostgresStore } from './storage/postgres/store.js';
import { openSqliteStore, type SqliteStore } from './storage/sqlite/store.js';
import type { StoreFactory } from './storage/store.js';
import { startWalCheckpointer } from './storage/wal-checkpointer.js';
import { safeDecoding } from './transport/decoding.js';
import { callObserver, commitObserver, createMetrics, observeGateway } from './observability/index.js';
import { auditHandlers } from './transport/handlers/audit.js';
import { consentHandlers } from './transport/handlers/consent.js';
import { deliveryHandlers } from './transport/handlers/delivery.js';
import { directoryHandlers } from './transport/handlers/directory.js';
import { recordHandlers } from './transport/handlers/records.js';
import { settlementHandlers } from './transport/handlers/settlement.js';

export interface GatewayServerOptions {
  /** The gateway's identity folder, as made by `hdx keys init` (`<exchange>/gateway`). */
  gatewayDir: string;
  /** Where `gateway.db` lives (default: the identity folder). */
  dataDir?: string;
  /** The party registry (default: `<exchange>/registry.json`). */
  registryPath?: string;
  /** `host:port`; port 0 picks a free one (default: from gateway.json). */
  listen?: string;
  /** Worker threads for sealing (default: one per core but one, at least 1; 0: in-process). */
  sealWorkers?: number;
  profilesDir?: string;
  settings?: Partial<GatewaySettings>;
  logger?: Logger;
  clock?: () => number;
  /** `host:port` for /metrics, /healthz and /readyz (plain HTTP: keep it on loopback); none if absent. */
  metricsListen?: string;
  /**
   * The exchange's PostgreSQL database (a libpq URL), shared by every replica: the gateway keeps its state
   * there instead of in gateway.db (docs/scaling.md).
   */
  postgres?: string;
  /** Opens the storage engine (default: PostgreSQL if `postgres` is given, else SQLite's gateway.db in the data folder). */
  store?: StoreFactory;
}

export interface RunningGateway {
  port: number;
  gateway: Gateway;
  parties: RegistryParties;
  logOrigin: string;
  logVerifierKey: string;
  /** The metrics port when `metricsListen` was given. */
  metricsPort?: number;
  /** What SIGHUP does: reload the registry file, audit the change and tell the other replicas. */
  reloadRegistry(): Promise<RegistryChange>;
  stop(): Promise<void>;
}

/**
 * Starts the gateway alone on its data folder: a second gateway on the same database is refused at start
 * (FolderLockedError) instead of failing writes later; the lock ends with stop() or with the process.
 */
export async function startGateway(options: GatewayServerOptions): Promise<RunningGateway> {
  const dataDir = options.dataDir ?? options.gatewayDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = lockFolder(dataDir, 'hdx gateway serve');
  try {
    const running = await serveGateway(options, dataDir);
    return { ...running, stop: () => running.stop().finally(() => lock.release()) };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function serveGateway(options: GatewayServerOptions, dataDir: string): Promise<RunningGateway> {
  const identity = loadGatewayIdentity(options.gatewayDir);
  const logger = options.logger ?? createLogger();
  const parties = new RegistryParties(options.registryPath ?? identity.registryPath);
  const signingPublic = publicJwkOf(identity.signingKey);
  const sealer = createSealer({
    signingJwk: identity.signingKey,
    ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
    ...(options.sealWorkers !== undefined ? { workers: options.sealWorkers } : {}),
  });
  const metrics = createMetrics();
  const store = await (options.store ?? (options.postgres ? openPostgresStore : openSqliteStore))({
    dataDir,
    onBatch: commitObserver(metrics).commitBatch,
    ...(options.postgres ? { postgres: { connectionString: options.postgres } } : {}),
  });
  const gw = createGateway({
    store,
    parties,
    secrets: new GatewaySecrets(identity.masterSecret),
    signer: createSigner(identity.uri, identity.signingKey, () => parties.gatewaySigningJwks(signingPublic)),
    sealer,
    logger,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });

  const logOrigin = `${identity.trustDomain}/audit/v1`;
  const logKey = createPrivateKey(identity.logPrivateKeyPem);
  await gw.audit.load();
  const checkpointer = new Checkpointer(store, gw.audit, createNoteSigner(logOrigin, logKey), logOrigin, gw.clock);
  const logVerifierKey = formatVerifierKey(logOrigin, createPublicKey(identity.logPublicKeyPem));
  checkpointer.start(1000, (error) => logger.error({ error: (error as Error)?.message }, 'audit checkpoint refused: the stored tree no longer extends the last signed checkpoint'));

  const closing = new AbortController();
  const rt = { parties, logger, closing: closing.signal, clock: gw.clock, observe: callObserver(metrics, { clock: gw.clock, logger }) };
  const audit = createAuditService(gw, checkpointer);
  const server = new Server({
    // Bundles up to the configured limit plus room for the other fields; larger ones are refused by
    // grpc-js with RESOURCE_EXHAUSTED before they are buffered.
    'grpc.max_receive_message_length': gw.settings.maxBundleBytes + 64 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(safeDecoding(withMillisecondCheck(ConsentServiceService)), consentHandlers(gw, rt));
  server.addService(safeDecoding(RecordServiceService), recordHandlers(gw, rt));
  server.addService(safeDecoding(DeliveryServiceService), deliveryHandlers(gw, rt));
  server.addService(safeDecoding(DirectoryServiceService), directoryHandlers(gw, rt, { verifierKey: logVerifierKey, origin: logOrigin }));
  server.addService(safeDecoding(SettlementServiceService), settlementHandlers(gw, rt));
  server.addService(safeDecoding(AuditServiceService), auditHandlers(audit, rt, (ctx, id) => buildEvidence(gw, audit, ctx, id, logVerifierKey)));
  const observability = observeGateway({
    metrics,
    server,
    services: [ConsentServiceService, RecordServiceService, DeliveryServiceService, DirectoryServiceService, SettlementServiceService, AuditServiceService],
    gateway: gw,
    sealer,
    certificates: { gateway: identity.tls.cert, ca: identity.tls.ca },
    logger,
  });

  const credentials = ServerCredentials.createSsl(
    identity.tls.ca,
    [{ private_key: identity.tls.key, cert_chain: identity.tls.cert }],
    true,
  );
  const listen = options.listen ?? identity.listen;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, credentials, (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
  );

  // Background work starts once the gateway serves (a failed bind leaves no thread behind).
  const walCheckpointer = store.engine === 'sqlite'
    ? startWalCheckpointer((store as SqliteStore).path, {
        onError: (code) => logger.warn({ code }, 'WAL checkpoint failed; the automatic checkpoint remains as a backstop'),
      })
    : { stop: async () => {} };
  const purgeTimer = setInterval(() => {
    Promise.all([purgeExpiredPayloads(gw), purgeExpiredDecisions(gw)]).catch((error: unknown) =>
      logger.error({ error: (error as Error)?.name }, 'purge failed'),
    );
  }, 60_000);
  purgeTimer.unref();
  // Reloads here, audits the change and tells the other replicas; follows theirs (registry-sync.ts).
  const registry = syncRegistry(gw, parties, logger);
  const reloadRegistry = () => registry.reload();
  const onHangup = () => {
    reloadRegistry().catch((error: unknown) =>
      logger.error({ error: (error as Error)?.name }, 'registry reload refused; keeping the previous registry'),
    );
  };
  process.on('SIGHUP', onHangup);
  try {
    await observability.serve(options.metricsListen);
  } catch (error) {
    // The metrics port could not be bound: stop everything started so far, then say so.
    process.off('SIGHUP', onHangup);
    registry.stop();
    server.forceShutdown();
    await observability.stop();
    await Promise.all([sealer.close(), walCheckpointer.stop()]);
    clearInterval(purgeTimer);
    checkpointer.stop();
    await store.close();
    throw error;
  }
  logger.info({ port, origin: logOrigin, auditSize: gw.audit.size }, 'gateway listening');

  return {
    port,
    ...(observability.metricsPort !== undefined ? { metricsPort: observability.metricsPort } : {}),
    gateway: gw,
    parties,
    logOrigin,
    logVerifierKey,
    reloadRegistry,
    async stop() {
      process.off('SIGHUP', onHangup);
      registry.stop();
      clearInterval(purgeTimer);
      checkpointer.stop();
      await observability.stop();
      closing.abort(); // open streams end with UNAVAILABLE: their clients follow again

      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await sealer.close();
      await walCheckpointer.stop();
      await store.close();
      logger.info('gateway stopped');
      logger.flush?.();
    },
  };
}
