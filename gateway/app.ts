/**
 * The gateway's domain dependencies, wired once at start. Domain services take this object; nothing
 * here knows about gRPC.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { AuditLog } from './audit/log.js';
import type { PartyLookup } from './context.js';
import type { GatewaySecrets } from './secrets.js';
import type { GatewaySigner } from './seal/signer.js';
import type { Sealer } from './seal/sealer.js';
import { Committer } from './storage/committer.js';
import { consentRepository } from './storage/consents.js';
import type { Db } from './storage/db.js';
import { DEFAULT_INTAKE, type IntakeConfig } from '../profile/intake.js';
import { AdmissionGate } from './admission.js';
import { idempotencyRepository } from './storage/idempotency.js';
import { submissionRepository, transferRepository } from './storage/transfers.js';
import { decisionRepository } from './storage/decisions.js';

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
  db: Db;
  parties: PartyLookup;
  secrets: GatewaySecrets;
  signer: GatewaySigner;
  sealer: Sealer;
  logger: Logger;
  settings?: Partial<GatewaySettings>;
  clock?: () => number;
  /** Metrics: each group commit's size and duration. */
  onCommitBatch?: (size: number, seconds: number) => void;
}

export type Gateway = ReturnType<typeof createGateway>;

export function createGateway(deps: GatewayDeps) {
  const clock = deps.clock ?? Date.now;
  const audit = new AuditLog(deps.db, clock);
  const committer = new Committer(deps.db, {
    onRollback: () => audit.reload(),
    ...(deps.onCommitBatch ? { onBatch: deps.onCommitBatch } : {}),
  });
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const settings: GatewaySettings = { ...DEFAULT_SETTINGS, ...deps.settings };
  return {
    ...deps,
    clock,
    settings,
    admission: new AdmissionGate(settings.maxSubmissionsInFlight, 'submissions'),
    audit,
    /** Commits `fn` durably (group commit), then tells followers that the log and queues grew. */
    async commit<T>(fn: () => T): Promise<T> {
      const result = await committer.commit(fn);
      audit.notifyCommitted();
      return result;
    },
    commitNow<T>(fn: () => T): T {
      const result = committer.commitNow(fn);
      audit.notifyCommitted();
      return result;
    },
    /** In-process notifications: `transfer:<insurerId>` and `decision:<hospitalId>`. */
    events,
    consents: consentRepository(deps.db),
    idempotency: idempotencyRepository(deps.db),
    submissions: submissionRepository(deps.db),
    transfers: transferRepository(deps.db),
    decisions: decisionRepository(deps.db),
  };
}
