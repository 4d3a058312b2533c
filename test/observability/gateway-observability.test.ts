/**
 * Observability over the real stack: metrics scraped over HTTP after real traffic (values checked),
 * probes without a client certificate, gRPC health of every service, server reflection used by a
 * reflection client over mutual TLS to list the services and call one from the descriptors it returned
 * (what grpcurl does), and the trace id in response metadata matching the gateway's log line.
 */
import { credentials, loadPackageDefinition, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { isServiceError, unaryCall } from '../../proto/connect.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import { connectWith, createTestExchange, idem, issueTestCertificate, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(20261202);
const SERVICES = ['AuditService', 'ConsentService', 'DeliveryService', 'DirectoryService', 'RecordService', 'SettlementService'].map((n) => `hdx.v1.${n}`);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { metricsListen: '127.0.0.1:0' });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const http = (path: string) => fetch(`http://127.0.0.1:${gw.running.metricsPort}${path}`);

async function scrape(): Promise<string> {
  const res = await http('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. `hdx_queue_depth{insurer="taikang-online"}`; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** mTLS credentials of a party, from its own folder (as a stock client would be configured). */
function partyCredentials(id: string) {
  const dir = ex.partyDir(id);
  return credentials.createSsl(readFileSync(join(dir, 'ca.crt')), readFileSync(join(dir, 'tls.key')), readFileSync(join(dir, 'tls.crt')));
}

async function consentAndSubmit(insurerId: string | undefined): Promise<void> {
  const r = record('nanshan-people');
  if (insurerId) {
    await grantConsent(s.nanshan, {
      idempotencyKey: idem('grant'),
      patientNationalId: r.patient.nationalId,
      terms: terms({ insurerId, hospitalIds: ['nanshan-people'], purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT }),
    });
  }
  await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
}

describe('metrics over HTTP', () => {
  it('count submissions, denials, transfers, deliveries and acknowledgements, and show the queue', async () => {
    const before = await scrape();
    const base = (series: string) => sample(before, series) ?? 0;

    await consentAndSubmit('taikang-online');
    await consentAndSubmit('taikang-online');
    const denied = await consentAndSubmit(undefined).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isServiceError(denied) && denied.code).toBe(status.FAILED_PRECONDITION);

    const queued = await scrape();
    expect(sample(queued, 'hdx_submissions_total{outcome="accepted"}')).toBe(base('hdx_submissions_total{outcome="accepted"}') + 2);
    expect(sample(queued, 'hdx_submissions_total{outcome="denied"}')).toBe(base('hdx_submissions_total{outcome="denied"}') + 1);
    expect(sample(queued, 'hdx_denials_total{action="record.deny",reason="no-consent"}')).toBe(
      base('hdx_denials_total{action="record.deny",reason="no-consent"}') + 1,
    );
    expect(sample(queued, 'hdx_transfers_created_total')).toBe(base('hdx_transfers_created_total') + 2);
    expect(sample(queued, 'hdx_queue_depth{insurer="taikang-online"}')).toBe(2);
    expect(sample(queued, 'hdx_queue_oldest_age_seconds{insurer="taikang-online"}')).toBeGreaterThanOrEqual(0);
    expect(sample(queued, 'hdx_audit_log_size')).toBe(gw.running.gateway.audit.size);
    // RPC latency histogram by method and status code (the refused submission has its own series).
    expect(sample(queued, 'hdx_rpc_duration_seconds_count{method="SubmitRecord",code="FAILED_PRECONDITION"}')).toBe(1);
    expect(sample(queued, 'hdx_rpc_duration_seconds_count{method="SubmitRecord",code="OK"}')).toBe(2);
    expect(sample(queued, 'hdx_commit_batch_size_count')).toBeGreaterThan(base('hdx_commit_batch_size_count'));
    // Certificates: the gateway's own, two years ahead (825 days) and not expired.
    const gatewayExpiry = sample(queued, 'hdx_certificate_expiry_seconds{certificate="gateway"}')!;
    expect(gatewayExpiry / 86400).toBeGreaterThan(800);
    expect(sample(queued, 'hdx_certificate_expiry_seconds{certificate="ca"}')! / 86400).toBeGreaterThan(3000);

    const outcomes = await pullTransfers(s.taikang, { outDir: join(ex.root, 'pulled') });
    expect(outcomes.filter((o) => o.ok)).toHaveLength(2);
    const drained = await scrape();
    expect(sample(drained, 'hdx_deliveries_total')).toBe(base('hdx_deliveries_total') + 2);
    expect(sample(drained, 'hdx_acknowledgements_total{kind="transfer"}')).toBe(base('hdx_acknowledgements_total{kind="transfer"}') + 2);
    expect(sample(drained, 'hdx_queue_depth{insurer="taikang-online"}')).toBeUndefined();
    // No identifier in any label: only party ids, methods, codes and reasons.
    const r = record('nanshan-people');
    expect(drained).not.toContain(r.patient.nationalId);
  });

  it('export each calling party’s certificate expiry, and warn in the log when one is near', async () => {
    const longLived = await scrape();
    expect(sample(longLived, 'hdx_party_certificate_expiry_seconds{party="nanshan-people"}')! / 86400).toBeGreaterThan(800);
    expect(gw.logs.some((l) => l.includes('party certificate expires soon'))).toBe(false);

    // The insurer now calls with a certificate that expires in 10 days (as before a renewal).
    const soon = connectWith(ex, gw, issueTestCertificate(ex, 'spiffe://hdx.local/insurer/pingan-health', { validDays: 10 }));
    await unaryCall(soon.directory, soon.directory.getJwks, {});
    await unaryCall(soon.directory, soon.directory.getJwks, {});
    soon.close();
    const days = sample(await scrape(), 'hdx_party_certificate_expiry_seconds{party="pingan-health"}')! / 86400;
    expect(days).toBeGreaterThan(9);
    expect(days).toBeLessThanOrEqual(10);
    const warnings = gw.logs.map((l) => JSON.parse(l) as { msg: string; party?: string; days?: number }).filter((l) => l.msg.startsWith('party certificate expires soon'));
    expect(warnings).toEqual([expect.objectContaining({ party: 'pingan-health', days: 9 })]); // once, not per call
  });

  it('answer probes without a client certificate, and refuse what is not a probe', async () => {
    expect((await http('/healthz')).status).toBe(200);
    const ready = await http('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
    expect((await http('/nothing')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${gw.running.metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('gRPC health', () => {
  it('reports SERVING for the server and for every hdx service, NOT_FOUND for others', async () => {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const client = new Health(gw.address, partyCredentials('pingan-health'));
    const check = (name: string) =>
      new Promise<{ status: string } | ServiceError>((resolve) =>
        (client as unknown as { check: (r: unknown, cb: (e: ServiceError | null, v: { status: string }) => void) => void }).check(
          { service: name },
          (error, value) => resolve(error ?? value),
        ),
      );
    for (const name of ['', ...SERVICES]) expect(await check(name)).toMatchObject({ status: 'SERVING' });
    const unknown = await check('hdx.v1.NoSuchService');
    expect((unknown as ServiceError).code).toBe(status.NOT_FOUND);
    client.close();
  });
});

describe('server reflection', () => {
  it('lists every service to a reflection client over mTLS, whose descriptors are enough to call one', async () => {
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
    const pkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createSsl>) => Client } } };
    };
    const client = new pkg.grpc.reflection.v1.ServerReflection(gw.address, partyCredentials('szdex'));
    const ask = (request: Record<string, unknown>) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = (client as unknown as { ServerReflectionInfo: () => NodeJS.ReadWriteStream & { end(): void } }).ServerReflectionInfo();
        stream.on('data', (message: Record<string, unknown>) => resolve(message));
        stream.on('error', reject);
        stream.write(request as never);
        stream.end();
      });

    const listed = (await ask({ list_services: '' })) as { list_services_response: { service: { name: string }[] } };
    const names = listed.list_services_response.service.map((x) => x.name);
    for (const name of [...SERVICES, 'grpc.health.v1.Health']) expect(names).toContain(name);

    const files = (await ask({ file_containing_symbol: 'hdx.v1.DirectoryService' })) as {
      file_descriptor_response: { file_descriptor_proto: Buffer[] };
    };
    client.close();
    // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: each file as field 1, length-delimited.
    const set = Buffer.concat(files.file_descriptor_response.file_descriptor_proto.flatMap((fd) => [Buffer.from([0x0a]), varint(fd.length), fd]));
    const dynamic = loadPackageDefinition(loadFileDescriptorSetFromBuffer(set)) as unknown as {
      hdx: { v1: { DirectoryService: new (address: string, creds: ReturnType<typeof credentials.createSsl>) => Client } };
    };
    const directory = new dynamic.hdx.v1.DirectoryService(gw.address, partyCredentials('szdex'));
    const jwks = await new Promise<{ issuer: string }>((resolve, reject) =>
      (directory as unknown as { GetJwks: (r: unknown, cb: (e: Error | null, v: { issuer: string }) => void) => void }).GetJwks({}, (e, v) =>
        e ? reject(e) : resolve(v),
      ),
    );
    directory.close();
    expect(jwks.issuer).toBe('spiffe://hdx.local/gateway/gateway');
  });
});

describe('trace ids', () => {
  it('come back in the response headers of a call and in the trailers of a refusal, and name its log line', async () => {
    const directory = s.regulator.clients?.directory ?? s.taikang.clients.directory;
    const okTrace = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const call = directory.getJwks({}, (error) => (error ? reject(error) : resolve(seen)));
      call.on('metadata', (md: Metadata) => (seen = String(md.get('x-hdx-trace-id')[0] ?? '')));
    });
    expect(okTrace).toMatch(/^[0-9a-f-]{36}$/);

    const refused = await new Promise<ServiceError>((resolve) =>
      directory.getPartyKeys({ partyId: "NOT A PARTY" }, (error) => resolve(error!)),
    );
    const refusedTrace = String(refused.metadata.get('x-hdx-trace-id')[0] ?? '');
    expect(refusedTrace).toMatch(/^[0-9a-f-]{36}$/);
    expect(refusedTrace).not.toBe(okTrace);

    const lineOf = (trace: string) => gw.logs.map((l) => JSON.parse(l) as { trace?: string; method?: string; code?: string }).find((l) => l.trace === trace);
    expect(lineOf(okTrace)).toMatchObject({ method: 'GetJwks', code: 'OK' });
    expect(lineOf(refusedTrace)).toMatchObject({ method: 'GetPartyKeys' });
    expect(lineOf(refusedTrace)?.code).not.toBe('OK');
  });
});

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
