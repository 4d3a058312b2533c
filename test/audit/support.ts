/**
 * Shared by the audit tests: fill a real gateway's log with the exchange's real traffic (consents,
 * signed submissions, pulls with signed receipts), and read every event the regulator can see.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerAuditCommands } from '../../compliance/cli.js';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { unaryCall } from '../../proto/connect.js';
import type { AuditEvent } from '../../proto/gen/hdx/v1/audit.js';
import type { ComplianceSession } from '../../compliance/session.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import { idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';

export interface Traffic {
  records: SyntheticRecord[];
  transfers: Array<{ transferId: string; insurerId: string; consentId: string; submissionId: string; nationalId: string }>;
}

/**
 * `count` patients at nanshan-people, each consenting to taikang-online (and every third also to
 * pingan-health), each record submitted; then both insurers pull and acknowledge everything.
 */
export async function populate(ex: TestExchange, s: Sessions, count: number, seed = 4): Promise<Traffic> {
  const gen = createGenerator(seed);
  const traffic: Traffic = { records: [], transfers: [] };
  for (let i = 0; i < count; i++) {
    const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
    traffic.records.push(r);
    const insurers = i % 3 === 0 ? ['taikang-online', 'pingan-health'] : ['taikang-online'];
    for (const insurerId of insurers) {
      await grantConsent(s.nanshan, { idempotencyKey: idem('grant'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId }) });
    }
    const submitted = await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
    for (const t of submitted.transfers) {
      traffic.transfers.push({ ...t, submissionId: submitted.submissionId, nationalId: r.patient.nationalId });
    }
  }
  await pullTransfers(s.taikang, { outDir: join(ex.root, 'taikang-out') });
  await pullTransfers(s.pingan, { outDir: join(ex.root, 'pingan-out') });
  return traffic;
}

/** Every event up to the gateway's current size, straight from ListEvents. */
export async function allEvents(regulator: ComplianceSession): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (;;) {
    const { events } = await unaryCall(regulator.clients.audit, regulator.clients.audit.listEvents, { startSeq: out.length, limit: 10_000, packed: false });
    if (events.length === 0) return out;
    out.push(...events);
  }
}

export const parse = (e: AuditEvent) => JSON.parse(e.eventJson) as Record<string, unknown> & { seq: number; action: string };

/** Runs `hdx audit …` in this process (as bin/hdx.js would), capturing its output and exit code. */
export async function runAuditCli(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const program = new Command('hdx').exitOverride();
  registerAuditCommands(program);
  process.exitCode = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, exitCode };
}

/** A gateway on one data folder, which a test stops (to edit the file as an operator could) and starts again. */
export function restartableGateway(ex: TestExchange, dataDir: string) {
  const current = {
    gw: undefined as unknown as TestGateway,
    s: undefined as unknown as Sessions,
    async start(): Promise<void> {
      current.gw = await startTestGateway(ex, { dataDir });
      current.s = await openSessions(ex, current.gw);
    },
    async stop(): Promise<void> {
      current.s?.closeAll();
      await current.gw?.stop();
    },
  };
  return current;
}
