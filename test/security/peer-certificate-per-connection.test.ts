/**
 * The gateway reads a caller's certificate once per connection (gateway/transport/identity.ts), over real
 * mTLS: later calls on the connection do not parse it again, each connection is judged by its own
 * certificate, and the validity window is still checked on every call.
 */
import { status } from '@grpc/grpc-js';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { unaryCall } from '../../proto/connect.js';
import { connectWith, createTestExchange, issueTestCertificate, startTestGateway, type TestExchange, type TestGateway } from '../support/harness.js';
import { expectStatus } from '../settlement/support.js';

const DAY = 86_400_000;
const uri = 'spiffe://hdx.local/insurer/pingan-health';
let ex: TestExchange;
let gw: TestGateway;
let clockOffset = 0;

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { clock: () => Date.now() + clockOffset });
});

afterAll(async () => {
  await gw?.stop();
  ex?.cleanup();
});

/** Counts the gateway's (server-side) reads of a peer certificate. */
function countServerReads() {
  const original = TLSSocket.prototype.getPeerCertificate;
  let reads = 0;
  const spy = vi.spyOn(TLSSocket.prototype, 'getPeerCertificate').mockImplementation(function (this: TLSSocket, ...args) {
    if ((this as unknown as { _tlsOptions?: { isServer?: boolean } })._tlsOptions?.isServer) reads += 1;
    return original.apply(this, args as [true]);
  });
  return { reads: () => reads, restore: () => spy.mockRestore() };
}

describe('the peer certificate, read once per connection', () => {
  it('is read at the first call of a connection only, and each connection has its own', async () => {
    const counter = countServerReads();
    try {
      const a = connectWith(ex, gw, issueTestCertificate(ex, uri, { validDays: 30 }));
      await unaryCall(a.directory, a.directory.getJwks, {});
      const afterFirst = counter.reads();
      expect(afterFirst).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 5; i++) await unaryCall(a.directory, a.directory.getJwks, {});
      expect(counter.reads()).toBe(afterFirst);

      a.close();
    } finally {
      counter.restore();
    }
  });

  it('judges each connection by its own certificate, and its validity window on every call', async () => {
    const long = connectWith(ex, gw, issueTestCertificate(ex, uri, { validDays: 30 }));
    const short = connectWith(ex, gw, issueTestCertificate(ex, uri, { validDays: 2 }));
    await unaryCall(long.directory, long.directory.getJwks, {});
    await unaryCall(short.directory, short.directory.getJwks, {});
    clockOffset = 3 * DAY;
    try {
      await expectStatus(unaryCall(short.directory, short.directory.getJwks, {}), status.UNAUTHENTICATED, /expired/);
      await unaryCall(long.directory, long.directory.getJwks, {});
    } finally {
      clockOffset = 0;
      long.close();
      short.close();
    }
  });
});
