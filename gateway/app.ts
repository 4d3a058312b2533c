/**
 * The gateway's domain dependencies, wired once at start. Domain services take this object; nothing
 * here knows about gRPC.
 */
import type { Logger } from 'pino';
import { AuditLog } from './audit/log.js';
import type { PartyLookup } from './context.js';
import type { GatewaySecrets } from './secrets.js';
import type { GatewaySigner } from './seal/signer.js';
import type { Sealer } from './seal/sealer.js';
import type { Db } from './storage/db.js';
import type { Store, StoreTx } from './storage/store.js';
import { DEFAULT_INTAKE, type IntakeConfig } from '../profile/intake.js';
import { AdmissionGate } from './admission.js';

export interface GatewaySettings {
  /** How long a delivered transfer stays leased before it is delivered again. */
  leaseMs: number;
  maxLeaseMs: number;
  /** How long ciphertext is kept after acknowledgement. */
  retentionMs: number;
  /** Largest bundle accepted, in bytes. */
  maxBundleBytes: number;
  /** Default and maximum transfers per pull. */
  pullBatch: number;
  /** Refuse submissions without the hospital's signature (the evidence chain needs it). */
  requireSubmissionSignature: boolean;
  /** Submissions in progress at once; more are refused with UNAVAILABLE (see admission.ts). */
  maxSubmissionsInFlight: number;
  /** Promised submit-to-decision windows (ms): direct settlement, and outpatient / inpatient claims. */
  serviceWindows: { directSettlement: number; outpatient: number; inpatient: number };
  /** Which identifiers are resident IDs, and where hospitals carry amounts outside the standard elements. */
  intake: IntakeConfig;
}

export const DEFAULT_SETTINGS: GatewaySettings = {
  leaseMs: 30_000,
  maxLeaseMs: 10 * 60_000,
  retentionMs: 7 * 24 * 3600_000,
  maxBundleBytes: 4 * 1024 * 1024,
  pullBatch: 100,
  requireSubmissionSignature: true,
  // About a second of work at this machine's measured capacity (bench: ~75 records/s on 2 cores).
  maxSubmissionsInFlight: 64,
  serviceWindows: { directSettlement: 60_000, outpatient: 24 * 3600_000, inpatient: 3 * 24 * 3600_000 },
  intake: DEFAULT_INTAKE,
};

export interface GatewayDeps {
  store: Store;
  parties: PartyLookup;
  secrets: GatewaySecrets;
  signer: GatewaySigner;
  sealer: Sealer;
  logger: Logger;
  settings?: Partial<GatewaySettings>;
  clock?: () => number;
}

export type Gateway = ReturnType<typeof createGateway>;

/** The domain's dependencies; `audit.load()` must have run before the gateway serves. */
export function createGateway(deps: GatewayDeps) {
  const clock = deps.clock ?? Date.now;
  const { store } = deps;
  const audit = new AuditLog(store, clock);
  const settings: GatewaySettings = { ...DEFAULT_SETTINGS, ...deps.settings };
  return {
    ...deps,
    clock,
    settings,
    admission: new AdmissionGate(settings.maxSubmissionsInFlight, 'submissions'),
    audit,
    /** Runs `fn` in the next group-committed batch; resolves after the durable commit (storage/store.ts). */
    commit<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      return store.transaction(fn);
    },
    /** Wake-ups: `transfer:<insurerId>` and `decision:<hospitalId>`. */
    events: store.notifier,
    /** Committed state, for everything outside a transaction. */
    consents: store.reads.consents,
    idempotency: store.reads.idempotency,
    submissions: store.reads.submissions,
    transfers: store.reads.transfers,
    decisions: store.reads.decisions,
    /** The SQLite engine's file (tests and tools only); the domain reads through the store. */
    get db(): Db {
      if (!('db' in store)) throw new TypeError(`the ${store.engine} engine has no SQLite file`);
      return (store as { db: Db }).db;
    },
  };
}
