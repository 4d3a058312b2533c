/**
 * Key rotation under traffic: while the hospital adapter submits without pause, the insurer adapter pulls,
 * decrypts, verifies and decides, and the hospital follows the decisions, the operator rotates an insurer's
 * encryption key (registry reload), the gateway's signing key (restart), a hospital's and an insurer's TLS
 * certificates (renewal), the audit log's key (restart) and the gateway's TLS certificate (restart). Nothing that should pass is refused; what was
 * signed before each rotation still verifies; the log verifies with the officer's tool (and the new log key),
 * consistent with a checkpoint it saved before the rotations. Every wait is on a count or an event, never on time.
 */
import { connectivityState, type Client } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openComplianceSession } from '../../compliance/session.js';
import { verifyLog } from '../../compliance/verify.js';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { followDecisions, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { openHospitalSession, type HospitalSession } from '../../hospital-adapter/session.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullAndDecide, type DecideOutcome } from '../../insurer-adapter/pull-and-decide.js';
import { pullTransfers, type PullOutcome } from '../../insurer-adapter/pull.js';
import { adjudicateAndDecide } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { acceptEnrolment, requestRenewal, signEnrolmentRequest } from '../../keys/exchange/enrol.js';
import { rotatePartyKey } from '../../keys/exchange/rotate.js';
import { rotateLogKey } from '../../keys/exchange/rotate-log.js';
import { loadPartyIdentity } from '../../keys/exchange/load.js';
import { issueCertificate } from '../../keys/pki.js';
import { verifyConsentReceipt } from '../../keys/formats/receipt.js';
import { verifyTransferEnvelopeSignature } from '../../keys/formats/transfer-envelope.js';
import { loadRegistry, PartyDirectory } from '../../keys/registry.js';
import { isTransient } from '../../proto/connect.js';
import { describeError } from '../../proto/errors.js';
import { createTestExchange, exchangeCa, startTestGateway, terms, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, receive, recordMaker } from '../settlement/support.js';

const HOSPITAL = 'nanshan-people';
const INSURER = 'taikang-online';
const SECOND_INSURER = 'pingan-health';
/** Transfers that must flow after each rotation before the next one. */
const AFTER_EACH = 3;

let ex: TestExchange;
let gw: TestGateway;
let port: number;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: p } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return p;
}

/** The gateway restarted on the same port (its own keys are read at start), as `systemctl restart` does. */
async function restartGateway(): Promise<void> {
  await gw.stop();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
}

beforeAll(async () => {
  ex = await createTestExchange();
  port = await freePort();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await gw?.stop();
  ex?.cleanup();
});

/** What flowed, and a way to wait for a condition on it that fails at once on the first refusal. */
class Traffic {
  readonly acknowledged: Array<{ submissionId: string; transferId: string; session: number; receipt: string }> = [];
  readonly pulled: Array<Extract<PullOutcome, { ok: true }>['received']> = [];
  readonly decided: Array<Extract<DecideOutcome, { ok: true }>> = [];
  readonly desk: Array<Extract<DecisionEvent, { ok: true }>> = [];
  readonly refusals: string[] = [];
  transientRetries = 0;
  private readonly waiters = new Set<() => void>();

  refuse(what: string): void {
    this.refusals.push(what);
    this.changed();
  }

  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  until(predicate: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.refusals.length > 0) {
          this.waiters.delete(check);
          reject(new Error(`refused: ${this.refusals.join('; ')}`));
        } else if (predicate()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  pulledSince(mark: number, test: (r: Traffic['pulled'][number]) => boolean): number {
    return this.pulled.slice(mark).filter(test).length;
  }
}

const kidOf = (jws: string) => decodeProtectedHeader(jws).kid;

/** The SHA-256 fingerprint of the certificate the gateway presents to a party (a TLS handshake, nothing sent). */
async function presentedCertificate(partyDir: string): Promise<string> {
  const { tls: files } = loadPartyIdentity(partyDir);
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: files.ca, cert: files.cert, key: files.key, ALPNProtocols: ['h2'] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}

/** Resolves once the channel has tried to connect and failed (the gateway is down), watching its state. */
async function connectionRefused(channel: ReturnType<Client['getChannel']>): Promise<void> {
  for (;;) {
    const state = channel.getConnectivityState(true);
    if (state === connectivityState.TRANSIENT_FAILURE) return;
    await new Promise<void>((resolve) => channel.watchConnectivityState(state, Infinity, () => resolve()));
  }
}

it('a decision signed while the gateway restarts (for its new keys) is sent once the gateway is back', async () => {
  const hospital = await openHospitalSession(ex.partyDir(HOSPITAL), gw.address);
  const insurer = await openInsurerSession(ex.partyDir(SECOND_INSURER), gw.address);
  try {
    const sent = await consentAndSubmit(hospital, recordMaker(7)(HOSPITAL), SECOND_INSURER);
    const received = await receive(insurer, join(ex.root, 'restart-decision'), sent.transfers[0]!.transferId);
    await gw.stop();
    await connectionRefused(insurer.clients.settlement.getChannel());
    // Submitted while nothing listens: it must wait for the gateway, not fail on the first UNAVAILABLE.
    const deciding = adjudicateAndDecide(insurer, received, adjudicate);
    gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
    const decided = await deciding;
    expect(decided.response.replayed).toBe(false);
  } finally {
    hospital.close();
    insurer.close();
  }
});

it('rotates every key while submissions, pulls and decisions flow: nothing refused, nothing old unverifiable', async () => {
  const traffic = new Traffic();
  const record = recordMaker(20261203);
  const stop = new AbortController();
  const stopSubmitting = new AbortController();
  const statePath = join(ex.root, 'officer-state.json');
  const savedBefore = join(ex.root, 'officer-state.before-rotation.json');

  // The hospital submits one consented record after another; the session can be swapped (a renewed
  // certificate). A transient failure (the gateway restarting) is retried with the same idempotency keys,
  // as the watch daemon does; anything else is a refusal.
  const hospitals: HospitalSession[] = [await openHospitalSession(ex.partyDir(HOSPITAL), gw.address)];
  const submitter = (async () => {
    while (!stopSubmitting.signal.aborted) {
      const r = record(HOSPITAL);
      const grantKey = `grant-${r.patient.nationalId}-${traffic.acknowledged.length}`;
      const bytes = Buffer.from(JSON.stringify(r.bundle));
      for (;;) {
        const session = hospitals.length - 1;
        try {
          const grant = await grantConsent(hospitals[session]!, {
            idempotencyKey: grantKey,
            patientNationalId: r.patient.nationalId,
            terms: terms({ insurerId: INSURER, hospitalIds: [HOSPITAL] }),
          });
          const answer = await submitBundle(hospitals[session]!, bytes);
          const transfer = answer.transfers.find((t) => t.insurerId === INSURER)!;
          traffic.acknowledged.push({ submissionId: answer.submissionId, transferId: transfer.transferId, session, receipt: grant.receipt });
          traffic.changed();
          break;
        } catch (error) {
          if (!isTransient(error)) {
            traffic.refuse(`submission: ${describeError(error)}`);
            return;
          }
          traffic.transientRetries += 1;
        }
      }
    }
  })();

  // The insurer pulls, verifies, decrypts, stores, acknowledges and decides, riding out restarts.
  const insurer = await openInsurerSession(ex.partyDir(INSURER), gw.address);
  const insurerDone = pullAndDecide(insurer, {
    outDir: join(ex.root, 'inbox'),
    follow: true,
    rules: adjudicate,
    signal: stop.signal,
    onOutcome: (o) => {
      if (o.ok) traffic.pulled.push(o.received);
      else traffic.refuse(`pull: ${o.reason}`);
      traffic.changed();
    },
    onDecision: (d) => {
      if (d.ok) traffic.decided.push(d);
      else traffic.refuse(`decision: ${d.reason}`);
      traffic.changed();
    },
  });
  // The desk follows the insurer's decisions on the first hospital session throughout.
  const deskDone = followDecisions(hospitals[0]!, {
    outDir: join(ex.root, 'his'),
    follow: true,
    signal: stop.signal,
    onDecision: (e) => {
      if (e.ok) traffic.desk.push(e);
      else traffic.refuse(`desk: ${e.reason}`);
      traffic.changed();
    },
  });

  try {
    await traffic.until(() => traffic.desk.length >= AFTER_EACH);
    // The officer verifies the log once before any rotation and keeps that checkpoint.
    const officer = openComplianceSession(ex.partyDir('szdex'), { address: gw.address });
    try {
      expect((await verifyLog(officer, { statePath })).ok).toBe(true);
    } finally {
      officer.close();
    }
    copyFileSync(statePath, savedBefore);
    // Transfers for the second insurer, left queued through every rotation below.
    const queued: string[] = [];
    const secondRecord = recordMaker(20261204);
    for (let i = 0; i < AFTER_EACH; i += 1) {
      const answer = await consentAndSubmit(hospitals[0]!, secondRecord(HOSPITAL), SECOND_INSURER);
      queued.push(...answer.transfers.filter((t) => t.insurerId === SECOND_INSURER).map((t) => t.transferId));
    }
    const before = { envelope: traffic.pulled[0]!, receipt: traffic.acknowledged[0]!.receipt };
    const oldGatewayKid = kidOf(before.envelope.envelope);

    // (a) the insurer's encryption key, then a registry reload: new transfers are sealed to the new key.
    let mark = traffic.pulled.length;
    const enc = await rotatePartyKey(ex.summary.dir, INSURER, 'enc');
    // The second insurer's too: what is queued for it was sealed to the key it replaces.
    const secondEnc = await rotatePartyKey(ex.summary.dir, SECOND_INSURER, 'enc');
    await gw.running.reloadRegistry();
    await traffic.until(() => traffic.pulledSince(mark, (r) => r.claims.hdx.payloadKid === enc.kid) >= AFTER_EACH);

    // (b) the gateway's signing key, then a restart: new envelopes and receipts are signed with it.
    mark = traffic.pulled.length;
    const sig = await rotatePartyKey(ex.summary.dir, 'gateway', 'sig');
    expect(sig.previousKid).toBe(oldGatewayKid);
    await restartGateway();
    await traffic.until(() => traffic.pulledSince(mark, (r) => kidOf(r.envelope) === sig.kid) >= AFTER_EACH);

    // (c) the hospital's TLS certificate: renewed, and a new session with it takes over submitting.
    mark = traffic.acknowledged.length;
    const renewal = requestRenewal(ex.partyDir(HOSPITAL));
    await signEnrolmentRequest(ex.summary.dir, renewal.requestPath, join(ex.root, 'renewal.json'));
    acceptEnrolment(ex.partyDir(HOSPITAL), join(ex.root, 'renewal.json'));
    hospitals.push(await openHospitalSession(ex.partyDir(HOSPITAL), gw.address));
    await traffic.until(() => {
      const renewed = new Set(traffic.acknowledged.slice(mark).filter((a) => a.session === 1).map((a) => a.submissionId));
      return traffic.desk.filter((d) => renewed.has(d.decision.submissionId)).length >= AFTER_EACH;
    });

    // (d) an insurer's TLS certificate: the second insurer renews it, then, with a fresh session, pulls the
    // transfers queued for it before every rotation: sealed to its old encryption key (kept, so they open
    // without being sealed again) and signed with the gateway's old key.
    const renewed = requestRenewal(ex.partyDir(SECOND_INSURER));
    await signEnrolmentRequest(ex.summary.dir, renewed.requestPath, join(ex.root, 'renewal-insurer.json'));
    acceptEnrolment(ex.partyDir(SECOND_INSURER), join(ex.root, 'renewal-insurer.json'));
    const second = await openInsurerSession(ex.partyDir(SECOND_INSURER), gw.address);
    try {
      const outcomes = await pullTransfers(second, { outDir: join(ex.root, 'inbox-second') });
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(outcomes.map((o) => o.transferId).sort()).toEqual([...queued].sort());
      for (const o of outcomes) {
        if (!o.ok) continue;
        expect(kidOf(o.received.envelope)).toBe(oldGatewayKid);
        expect(o.received.claims.hdx.payloadKid).toBe(secondEnc.previousKid);
      }
    } finally {
      second.close();
    }

    // (e) the audit log's key, then a restart: the officer's folder gets the new log.pub (below, the log
    // verifies with it, consistent with the checkpoint saved under the old key).
    mark = traffic.pulled.length;
    const log = await rotateLogKey(ex.summary.dir);
    await restartGateway();
    expect(gw.running.logVerifierKey).toBe(log.verifierKey);
    await traffic.until(() => traffic.pulled.length - mark >= AFTER_EACH);

    // (f) the gateway's TLS certificate: a new key and certificate from the exchange CA (no command renews
    // it yet), then a restart; every adapter's channel reconnects to it.
    mark = traffic.pulled.length;
    const serverCert = issueCertificate(exchangeCa(ex), {
      commonName: 'hdx-gateway',
      uri: insurer.gatewayUri,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validDays: 30,
    });
    writeFileSync(join(ex.summary.gateway.dir, 'tls.crt'), serverCert.certPem);
    writeFileSync(join(ex.summary.gateway.dir, 'tls.key'), serverCert.keyPem, { mode: 0o600 });
    await restartGateway();
    expect(await presentedCertificate(ex.partyDir(HOSPITAL))).toBe(new X509Certificate(serverCert.certPem).fingerprint256);
    await traffic.until(() => traffic.pulled.length - mark >= AFTER_EACH);

    // What the gateway signed before the rotation still verifies against the keys it publishes now ...
    const published = hospitals[1]!.gatewayJwks;
    await verifyConsentReceipt(before.receipt, published, { audience: hospitals[1]!.identity.party.uri, issuer: hospitals[1]!.gatewayUri });
    await verifyTransferEnvelopeSignature(before.envelope.envelope, published, { audience: insurer.identity.party.uri, issuer: insurer.gatewayUri });
    // ... and against the registry's history, at the time it was signed.
    const history = new PartyDirectory(loadRegistry(ex.summary.registryPath));
    const signedAt = new Date(before.envelope.claims.iat * 1000);
    await verifyTransferEnvelopeSignature(before.envelope.envelope, history.jwks('gateway', 'sig', signedAt), {
      audience: insurer.identity.party.uri,
      issuer: insurer.gatewayUri,
    });

    // Drained: the hospital stops submitting; every acknowledged submission is pulled, decided and at the desk.
    stopSubmitting.abort();
    await submitter;
    await traffic.until(() => {
      const atDesk = new Set(traffic.desk.map((d) => d.decision.submissionId));
      return traffic.acknowledged.every((a) => atDesk.has(a.submissionId));
    });
  } finally {
    stopSubmitting.abort();
    stop.abort();
    await Promise.allSettled([submitter, insurerDone, deskDone]);
    insurer.close();
    for (const h of hospitals) h.close();
  }

  expect(traffic.refusals).toEqual([]);
  // Each transfer pulled and decided, and each decision at the desk, once.
  const transfers = traffic.acknowledged.map((a) => a.transferId).sort();
  expect([...new Set(traffic.pulled.map((p) => p.transferId))].sort()).toEqual(transfers);
  expect(traffic.decided.map((d) => d.transferId).sort()).toEqual(transfers);
  // (The desk also saw the decision of the test before, from the other insurer.)
  expect(traffic.desk.filter((d) => d.decision.insurerId === INSURER).map((d) => d.decision.transferId).sort()).toEqual(transfers);

  // The officer's tool verifies the log across the rotations, consistent with the checkpoint saved before.
  const officer = openComplianceSession(ex.partyDir('szdex'), { address: gw.address });
  try {
    const report = await verifyLog(officer, { statePath: savedBefore });
    expect(report.ok, report.ok ? '' : report.failure).toBe(true);
  } finally {
    officer.close();
  }
}, 600_000);
