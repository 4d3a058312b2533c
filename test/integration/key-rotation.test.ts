/**
 * Key rotation while the exchange runs: the operator rotates an insurer's encryption key, the gateway
 * reloads its registry (SIGHUP), audits the rotation, seals new transfers to the new key, and the
 * insurer still opens transfers sealed to the old one.
 */
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { rotatePartyKey } from '../../keys/exchange/rotate.js';
import { rotateLogKey } from '../../keys/exchange/rotate-log.js';
import { openComplianceSession } from '../../compliance/session.js';
import { verifyLog } from '../../compliance/verify.js';
import { readPayloadHeader } from '../../keys/formats/payload.js';
import { verifyConsentReceipt } from '../../keys/formats/receipt.js';
import { createGenerator } from '../../synthetic/index.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

it('rotates an insurer’s encryption key without losing a transfer, and audits it', async () => {
  const gen = createGenerator(99);
  const submit = async () => {
    const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
    await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) });
    return (await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)))).transfers[0]!.transferId;
  };
  const before = await submit();
  const oldKid = s.taikang.identity.encryptionKey!.kid;

  const rotated = await rotatePartyKey(ex.summary.dir, 'taikang-online', 'enc');
  const change = await gw.running.reloadRegistry();
  expect(change.keysAdded.some((k) => k.includes(rotated.kid))).toBe(true);
  const event = await gw.sql.get<{ event_json: string }>(`SELECT event_json FROM audit_events WHERE action = 'key.rotate' ORDER BY seq DESC LIMIT 1`);
  expect(event).toBeDefined();

  const after = await submit();
  const payloads = await Promise.all([before, after].map(async (id) => (await gw.running.gateway.transfers.payload(id))!));
  expect(readPayloadHeader(payloads[0]!).kid).toBe(oldKid);
  expect(readPayloadHeader(payloads[1]!).kid).toBe(rotated.kid);

  // The insurer restarts with its rotated files and opens both.
  const insurer = await openInsurerSession(ex.partyDir('taikang-online'), gw.address);
  try {
    const outcomes = await pullTransfers(insurer, { outDir: join(ex.root, 'out') });
    const ok = outcomes.filter((o) => o.ok).map((o) => o.transferId);
    expect(ok).toEqual(expect.arrayContaining([before, after]));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  } finally {
    insurer.close();
  }
});

it('an insurer adapter that runs through the rotation opens transfers sealed to its new key', async () => {
  const gen = createGenerator(100);
  const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
  await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) });
  // s.taikang was opened before any rotation and holds only the first key.
  const rotated = await rotatePartyKey(ex.summary.dir, 'taikang-online', 'enc');
  await gw.running.reloadRegistry();
  const sent = (await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)))).transfers[0]!.transferId;

  const outcomes = await pullTransfers(s.taikang, { outDir: join(ex.root, 'out-running') });
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  const mine = outcomes.find((o) => o.transferId === sent);
  expect(mine?.ok && mine.received.claims.hdx.payloadKid).toBe(rotated.kid);
});

it('after the gateway’s own signing key is rotated and it restarts, it publishes the old key too, and running sessions take the new one', async () => {
  const gen = createGenerator(101);
  const submit = async () => {
    const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
    const grant = await grantConsent(s.nanshan, { idempotencyKey: idem('g'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'pingan-health' }) });
    const sent = await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
    return { receipt: grant.receipt, transferId: sent.transfers[0]!.transferId };
  };
  const before = await submit();
  const rotated = await rotatePartyKey(ex.summary.dir, 'gateway', 'sig');
  const port = gw.running.port;
  await gw.stop();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
  // s.nanshan and s.pingan were opened before the rotation: the new key's receipt and envelope verify.
  const after = await submit();

  const fresh = await openInsurerSession(ex.partyDir('pingan-health'), gw.address);
  try {
    expect(fresh.gatewayJwks.keys.map((k) => k.kid).sort()).toEqual([rotated.previousKid, rotated.kid].sort());
    // Signed before the rotation, still verifiable against what the gateway publishes now.
    await verifyConsentReceipt(before.receipt, fresh.gatewayJwks, { audience: s.nanshan.identity.party.uri, issuer: fresh.gatewayUri });
  } finally {
    fresh.close();
  }
  const outcomes = await pullTransfers(s.pingan, { outDir: join(ex.root, 'out-gateway-key') });
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  const kids = Object.fromEntries(outcomes.flatMap((o) => (o.ok ? [[o.transferId, decodeProtectedHeader(o.received.envelope).kid]] : [])));
  expect(kids).toEqual({ [before.transferId]: rotated.previousKid, [after.transferId]: rotated.kid });
});

it('after the log key is rotated and the gateway restarts, the officer’s tool (with the new log.pub) verifies the log, consistent with a checkpoint saved before', async () => {
  const statePath = join(ex.root, 'officer-log-rotation.json');
  const before = openComplianceSession(ex.partyDir('szdex'), { address: gw.address });
  try {
    expect((await verifyLog(before, { statePath })).ok).toBe(true);
  } finally {
    before.close();
  }
  const rotated = await rotateLogKey(ex.summary.dir);
  expect(rotated.partiesUpdated).toContain('szdex');
  const port = gw.running.port;
  await gw.stop();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
  expect(gw.running.logVerifierKey).toBe(rotated.verifierKey);

  // At once, before the log has grown: the checkpoint served must be signed by the new key.
  const after = openComplianceSession(ex.partyDir('szdex'), { address: gw.address });
  try {
    expect(after.verifierKey).toBe(rotated.verifierKey);
    const report = await verifyLog(after, { statePath });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
  } finally {
    after.close();
  }
});
