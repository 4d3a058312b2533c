/**
 * Clients ride out a gateway that is down for a moment: opening a session (GetJwks), granting and revoking
 * consent retry UNAVAILABLE until the gateway is back; an acknowledgement that cannot reach the gateway
 * leaves the transfer stored and reported pending (not refused), and the redelivery acknowledges it.
 */
import type { Client } from '@grpc/grpc-js';
import type { Transfer } from '../../proto/gen/hdx/v1/delivery.js';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent, revokeConsent } from '../../hospital-adapter/consent.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { receiveTransfer } from '../../insurer-adapter/receive.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261202);

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

/** Resolves once the client's channel has reconnected (a plain pull does not retry by itself). */
function channelReady(client: Client): Promise<void> {
  return new Promise((resolve, reject) => client.waitForReady(Date.now() + 30_000, (error) => (error ? reject(error) : resolve())));
}

/**
 * Stops the gateway and holds its port with a listener that drops every connection, runs `during`, and
 * starts the gateway again once `during` has been turned away at least once — so its first try surely failed.
 */
async function whileDown<T>(during: () => Promise<T>): Promise<T> {
  const port = gw.running.port;
  await gw.stop();
  let turnedAway!: () => void;
  const refused = new Promise<void>((resolve) => (turnedAway = resolve));
  const blocker = createServer((socket) => (socket.destroy(), turnedAway()));
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  const pending = during();
  pending.catch(() => turnedAway());
  await refused;
  await new Promise((resolve) => blocker.close(resolve));
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
  return pending;
}

describe('clients through a gateway restart', () => {
  it('opens a session whose first GetJwks found the gateway down', async () => {
    const address = gw.address;
    const session = await whileDown(() => openHospitalSession(ex.partyDir('szu-general'), address));
    try {
      expect(session.gatewayUri).toMatch(/gateway/);
    } finally {
      session.close();
    }
  });

  it('grants and revokes consent across a restart, each exactly once', async () => {
    const r = record('nanshan-people');
    const key = idem('grant');
    const request = { idempotencyKey: key, patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) };
    const granted = await whileDown(() => grantConsent(s.nanshan, request));
    // The same key again answers with the first grant: the retry did not record a second consent.
    const consentId = granted.consent!.consentId;
    const replay = await grantConsent(s.nanshan, request);
    expect(replay.replayed).toBe(true);
    expect(replay.consent!.consentId).toBe(consentId);
    const revoked = await whileDown(() => revokeConsent(s.nanshan, { idempotencyKey: idem('revoke'), consentId }));
    expect(revoked.consent!.revokedAt).toBeTruthy();
  });

  it('reports a stored transfer whose acknowledgement failed as pending, and the redelivery acknowledges it', async () => {
    const r = record('nanshan-people');
    await grantConsent(s.nanshan, { idempotencyKey: idem('grant'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'pingan-health' }) });
    const submitted = await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
    const transferId = submitted.transfers[0]!.transferId;

    // Take the transfer off the stream by hand (a 1 s lease), then lose the gateway before acknowledging.
    const stream = s.pingan.clients.delivery.pullTransfers({ maxTransfers: 1, follow: false, leaseSeconds: 1 });
    let transfer: Transfer | undefined;
    for await (const message of stream) transfer ??= message.transfer;
    expect(transfer?.transferId).toBe(transferId);
    const outDir = join(ex.root, 'pingan-inbox');
    const port = gw.running.port;
    await gw.stop();
    const received = await receiveTransfer(s.pingan, transfer!, outDir);
    expect(received.acknowledgementPending).toMatch(/UNAVAILABLE/);
    expect(existsSync(received.bundlePath)).toBe(true);
    gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
    await channelReady(s.pingan.clients.delivery);

    // Its lease has run out: offered again, stored again (same name), acknowledged this time.
    const again = await pullTransfers(s.pingan, { outDir });
    const mine = again.find((o) => o.transferId === transferId);
    expect(mine).toMatchObject({ ok: true });
    expect(mine!.ok && mine!.received.acknowledgementPending).toBeFalsy();
    expect((await pullTransfers(s.pingan, { outDir })).map((o) => o.transferId)).not.toContain(transferId);
  }, 60_000);
});
