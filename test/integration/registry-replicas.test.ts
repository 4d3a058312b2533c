/**
 * A registry reload reaches every replica (issue 12 item 2) through the Store Notifier's `registry`
 * channel. With SQLite the gateway is one process and the LocalNotifier delivers in-process, so a message
 * on the channel stands in for another replica's reload: it makes this gateway re-read its registry file
 * and end the streams of parties it no longer lists; and a reload here publishes on the channel.
 */
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamDecisionsResponse } from '../../proto/gen/hdx/v1/settlement.js';
import {
  createTestExchange,
  openSessions,
  removeFromRegistry,
  startTestGateway,
  waitFor,
  type Sessions,
  type TestExchange,
  type TestGateway,
} from '../support/harness.js';

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

/** Registry changes in the log (a party's removal takes its keys too: audited as key.rotate); either engine. */
async function auditCount(): Promise<number> {
  const rows = await gw.running.gateway.store.reads.audit.range(0, 100_000);
  return rows.filter((row) => ['registry.reload', 'key.rotate'].includes((JSON.parse(row.event_json) as { action: string }).action)).length;
}

describe('the registry channel', () => {
  it('a reload here publishes on it, once the change is audited', async () => {
    const heard: string[] = [];
    const stop = gw.running.gateway.events.subscribe('registry', (from) => heard.push(from));
    try {
      removeFromRegistry(ex, 'taikang-online');
      const before = await auditCount();
      await gw.running.reloadRegistry();
      expect(await auditCount()).toBe(before + 1);
      expect(heard).toHaveLength(1);
      // Our own message does not make us reload (and audit) a second time.
      expect(await auditCount()).toBe(before + 1);
    } finally {
      stop();
    }
  });

  it('another replica’s message makes this gateway reload: a removed hospital’s open stream ends, and the follower does not audit it again', async () => {
    const stream = s.szu.clients.settlement.streamDecisions({ afterCursor: 0, follow: true }) as ClientReadableStream<StreamDecisionsResponse>;
    let ended: { code: number; details: string } | undefined;
    stream.on('data', () => {});
    stream.on('error', (e: { code: number; details: string }) => (ended = { code: e.code, details: e.details }));
    await waitFor(() => gw.running.gateway.events.listenerCount('decision:szu-general') > 0);

    removeFromRegistry(ex, 'szu-general'); // the file every replica reads, changed by the operator
    const before = await auditCount();
    expect(gw.running.parties.byId('szu-general')).toBeDefined();
    gw.running.gateway.events.publish('registry', 'another-replica');

    expect(gw.running.parties.byId('szu-general')).toBeUndefined();
    await waitFor(() => ended !== undefined);
    expect(ended?.code).toBe(status.UNAUTHENTICATED);
    expect(ended?.details).toMatch(/registry does not know/);
    expect(await auditCount()).toBe(before);
  });

  it('a broken file on this replica is refused when the message arrives, and the previous registry stays', async () => {
    const good = readFileSync(ex.summary.registryPath, 'utf8');
    try {
      writeFileSync(ex.summary.registryPath, '{ not json');
      gw.running.gateway.events.publish('registry', 'another-replica');
      expect(gw.running.parties.byId('nanshan-people')).toBeDefined();
    } finally {
      writeFileSync(ex.summary.registryPath, good);
    }
  });
});
