/**
 * Key rotation under traffic: while the hospital adapter submits without pause, the insurer adapter pulls,
 * decrypts, verifies and decides, and the hospital follows the decisions, the operator rotates an insurer's
 * encryption key (registry reload), the gateway's signing key (restart), a hospital's and an insurer's TLS
 * certificates (renewal), and the audit log's key (restart). Nothing that should pass is refused; what was
 * signed before each rotation still verifies; the log verifies across the log-key rotation and is consistent
 * with a checkpoint the officer saved before it. Every wait is on a count or an event, never on time.
 */
import { connectivityState, type Client } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { adjudicateAndDecide } from '../../insurer-adapter/adjudicate.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { createTestExchange, startTestGateway, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, receive, recordMaker } from '../settlement/support.js';

const HOSPITAL = 'nanshan-people';
const SECOND_INSURER = 'pingan-health';

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

beforeAll(async () => {
  ex = await createTestExchange();
  port = await freePort();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await gw?.stop();
  ex?.cleanup();
});

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
