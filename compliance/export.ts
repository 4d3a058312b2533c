/**
 * `hdx audit export`: streams the whole log, as JSON Lines (each line the event's canonical JSON exactly
 * as logged, so SHA-256(0x00 || line) is its Merkle leaf) or as FHIR `AuditEvent` resources in NDJSON
 * (IHE BALP, see `fhir-audit-event.ts`). Steps:
 *   fetchCheckpoint → verifyCheckpointSignature → streamEvents (checking the hash chain as it goes) → verifyRoot
 * Memory stays flat on any log size: pages of events are fetched one ahead, each written out (waiting for
 * the output to drain) before the next is read. What is exported is the log up to one signed checkpoint,
 * and the report says whether it hashed to that checkpoint's root.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { verifyCheckpoint, type Checkpoint } from '../keys/transparency/index.js';
import { unaryCall } from '../proto/connect.js';
import { loggedEventFrom, type LoggedEvent } from './audit-event.js';
import { ChainBreak, EventChain } from './event-chain.js';
import { eventPages, PAGE_SIZE } from './event-pages.js';
import { toFhirAuditEvent, type FhirMappingOptions } from './fhir-audit-event.js';
import type { ComplianceSession } from './session.js';

export const EXPORT_FORMATS = ['jsonl', 'fhir'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  out: Writable;
  onProgress?: (done: number, total: number) => void;
  /** Party roles from the officer's registry copy, for the FHIR mapping. */
  roleOf?: FhirMappingOptions['roleOf'];
  /** Events per request (tests use small pages). */
  pageSize?: number;
}

export interface ExportReport {
  ok: boolean;
  format: ExportFormat;
  /** Events written. */
  exported: number;
  treeSize: number;
  rootHash: string;
  proved: string[];
  /** The first failure, naming the step. */
  failure?: string;
}

class StepFailure extends Error {
  constructor(readonly step: string, message: string) {
    super(`${step}: ${message}`);
  }
}

/** The event's schema, checked only where it is used (the FHIR mapping). */
function eventAt(seq: number, parsed: unknown): LoggedEvent {
  try {
    return loggedEventFrom(parsed);
  } catch (error) {
    throw new StepFailure('event schema', `event ${seq} is malformed: ${(error as Error).message}`);
  }
}

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

export async function exportLog(session: ComplianceSession, options: ExportOptions): Promise<ExportReport> {
  if (!isExportFormat(options.format)) throw new TypeError('format must be jsonl or fhir');
  const proved: string[] = [];
  let checkpoint: Checkpoint | undefined;
  let exported = 0;
  try {
    // 1. fetchCheckpoint
    const { checkpoint: note } = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
    // 2. verifyCheckpointSignature
    try {
      checkpoint = verifyCheckpoint(note, session.verifier, session.origin);
    } catch (error) {
      throw new StepFailure('checkpoint signature', (error as Error).message);
    }
    proved.push(`checkpoint for ${checkpoint.origin} at size ${checkpoint.size} is signed by the configured log key`);
    // 3. streamEvents
    const chain = new EventChain();
    const mapping: FhirMappingOptions = {
      origin: checkpoint.origin,
      trustDomain: checkpoint.origin.split('/')[0] ?? checkpoint.origin,
      ...(options.roleOf ? { roleOf: options.roleOf } : {}),
    };
    try {
      for await (const page of eventPages(session, 0, checkpoint.size, options.pageSize ?? PAGE_SIZE)) {
        let chunk = '';
        for (const served of page) {
          const { parsed, leaf } = chain.push(served.seq, served.eventJson, served.leafHash);
          chunk += options.format === 'jsonl' ? `${served.eventJson}\n` : `${JSON.stringify(toFhirAuditEvent(eventAt(served.seq, parsed), leaf, mapping))}\n`;
        }
        if (!options.out.write(chunk)) await once(options.out, 'drain');
        exported = chain.size;
        options.onProgress?.(exported, checkpoint.size);
      }
    } catch (error) {
      if (error instanceof ChainBreak) throw new StepFailure('event chain', error.message);
      throw error;
    }
    if (chain.size < checkpoint.size) throw new StepFailure('event chain', `events stop at ${chain.size} of ${checkpoint.size}`);
    // 4. verifyRoot
    if (!chain.root().equals(checkpoint.rootHash)) {
      throw new StepFailure('root', 'the exported events do not hash to the signed root');
    }
    proved.push(`all ${exported} exported events link in one hash chain and hash to the signed root`);
    return { ok: true, format: options.format, exported, treeSize: checkpoint.size, rootHash: checkpoint.rootHash.toString('base64'), proved };
  } catch (error) {
    const failure = error instanceof StepFailure ? error : new StepFailure('fetch', (error as Error).message);
    return {
      ok: false,
      format: options.format,
      exported,
      treeSize: checkpoint?.size ?? 0,
      rootHash: checkpoint?.rootHash.toString('base64') ?? '',
      proved,
      failure: failure.message,
    };
  }
}
