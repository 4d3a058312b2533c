/**
 * `SubmitRecords` over real gRPC with mutual TLS: a folder goes over one stream, each record is handled
 * as `SubmitRecord` would handle it (same outcome, same status and message for a refusal), a refused
 * record does not stop the others, a non-hospital is refused per item, and a party dropped from the
 * registry mid-stream is refused at its next message.
 */
import { status, type ClientDuplexStream } from '@grpc/grpc-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submissionRequest, submitBundle, submitFilesStreamed } from '../../hospital-adapter/submit.js';
import type { SubmitRecordsRequest, SubmitRecordsResponse } from '../../proto/gen/hdx/v1/records.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import {
  createTestExchange,
  idem,
  openSessions,
  removeFromRegistry,
  startTestGateway,
  terms,
  waitFor,
  type Sessions,
  type TestExchange,
  type TestGateway,
} from '../support/harness.js';

const DAY = 86_400_000;
let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const gen = createGenerator(20261202);

beforeAll(async () => {
  ex = await createTestExchange();
  // A real worker thread: the streamed records' seals go through the pool.
  gw = await startTestGateway(ex, { sealWorkers: 1 });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const stay = (): SyntheticRecord => gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - DAY) });
const bytesOf = (r: SyntheticRecord) => Buffer.from(JSON.stringify(r.bundle));

async function consent(r: SyntheticRecord, insurerId: string) {
  await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId }) });
}

/** The error a unary SubmitRecord ends with, as `status: details`. */
async function unaryRefusal(bytes: Uint8Array): Promise<string> {
  const error = (await submitBundle(s.nanshan, bytes, 'DIRECT_SETTLEMENT', { forMs: 0 }).then(
    () => ({ code: -1, details: 'accepted' }),
    (e: { code: number; details: string }) => e,
  )) as { code: number; details: string };
  return `${status[error.code]}: ${error.details}`;
}

/** A raw SubmitRecords stream: its responses as they arrive and how it ended. */
function openStream(session: Sessions['nanshan'] | Sessions['taikang']) {
  const call = session.clients.records.submitRecords() as ClientDuplexStream<SubmitRecordsRequest, SubmitRecordsResponse>;
  const seen = { responses: [] as SubmitRecordsResponse[], ended: undefined as undefined | { code: number; details: string } };
  call.on('data', (m: SubmitRecordsResponse) => seen.responses.push(m));
  call.on('error', (e: { code: number; details: string }) => (seen.ended = { code: e.code, details: e.details }));
  call.on('end', () => (seen.ended ??= { code: status.OK, details: '' }));
  return { call, seen };
}

describe('SubmitRecords', () => {
  it('submits a folder over one stream; refused records get their own status and the rest are accepted', async () => {
    const consented = [stay(), stay(), stay(), stay()];
    for (const r of consented) await consent(r, 'taikang-online');
    const withoutConsent = stay();
    const folder = join(ex.root, 'backlog');
    mkdirSync(folder);
    const files = [
      ...consented.map((r, i) => [`${i}-ok.json`, bytesOf(r)] as const),
      ['5-no-consent.json', bytesOf(withoutConsent)] as const,
      ['6-not-json.json', Buffer.from('{not json')] as const,
      ['7-again.json', bytesOf(consented[0]!)] as const,
    ].map(([name, bytes]) => {
      writeFileSync(join(folder, name), bytes);
      return join(folder, name);
    });

    const outcomes = await submitFilesStreamed(s.nanshan, files, { window: 4 });
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, false, false, true]);
    for (const o of outcomes.slice(0, 4)) {
      expect(o.ok && o.response.transfers.map((t) => t.insurerId)).toEqual(['taikang-online']);
    }
    // The same bundle twice: one submission, the other answer is its replay.
    const first = outcomes[0]!;
    const again = outcomes[6]!;
    expect(first.ok && again.ok && first.response.submissionId === again.response.submissionId).toBe(true);
    expect([first, again].map((o) => o.ok && o.response.replayed).sort()).toEqual([false, true]);
    // Refusals are exactly those of the unary call.
    const [noConsent, notJson] = [outcomes[4]!, outcomes[5]!];
    expect(noConsent.ok ? '' : noConsent.message).toBe(await unaryRefusal(bytesOf(withoutConsent)));
    expect(noConsent.ok ? '' : noConsent.status).toBe('FAILED_PRECONDITION');
    expect(notJson.ok ? '' : notJson.message).toBe(await unaryRefusal(Buffer.from('{not json')));
    expect(notJson.ok ? '' : notJson.status).toBe('INVALID_ARGUMENT');
    // One transfer per consented record, none for the others.
    const transfers = (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))!;
    expect(transfers.n).toBe(4);
  });

  it('refuses an insurer per item, as SubmitRecord refuses it, and the stream itself ends OK', async () => {
    const r = stay();
    const request = await submissionRequest(s.nanshan, bytesOf(r), 'DIRECT_SETTLEMENT');
    const { call, seen } = openStream(s.taikang);
    call.write({ sequence: 1, record: request });
    call.write({ sequence: 2, record: request });
    call.end();
    await waitFor(() => seen.ended !== undefined);
    expect(seen.ended?.code).toBe(status.OK);
    expect(seen.responses.map((m) => [m.sequence, m.refused?.code]).sort()).toEqual([
      [1, status.PERMISSION_DENIED],
      [2, status.PERMISSION_DENIED],
    ]);
    const unary = await new Promise<{ code: number; details: string }>((resolve) =>
      s.taikang.clients.records.submitRecord(request, (e) => resolve(e as unknown as { code: number; details: string })),
    );
    expect(unary.code).toBe(status.PERMISSION_DENIED);
    expect(seen.responses[0]!.refused?.message).toBe(unary.details);
  });

  it('a hospital dropped from the registry mid-stream is refused at its next message; nothing more is submitted', async () => {
    const before = stay();
    const after = stay();
    await consent(before, 'taikang-online');
    await consent(after, 'taikang-online');
    const { call, seen } = openStream(s.nanshan);
    call.write({ sequence: 1, record: await submissionRequest(s.nanshan, bytesOf(before), 'DIRECT_SETTLEMENT') });
    await waitFor(() => seen.responses.length === 1);
    expect(seen.responses[0]!.accepted?.transfers).toHaveLength(1);
    const count = async () => (await gw.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM submissions'))!.n;
    const submitted = await count();

    removeFromRegistry(ex, 'nanshan-people');
    await gw.running.reloadRegistry();
    call.write({ sequence: 2, record: await submissionRequest(s.nanshan, bytesOf(after), 'DIRECT_SETTLEMENT') });
    await waitFor(() => seen.ended !== undefined);
    expect(seen.ended?.code).toBe(status.UNAUTHENTICATED);
    expect(seen.responses).toHaveLength(1);
    expect(await count()).toBe(submitted);
  });
});
