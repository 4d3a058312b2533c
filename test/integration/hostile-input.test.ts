/**
 * No client input yields INTERNAL or UNKNOWN (issue 14.5), over real gRPC with mutual TLS and a seal
 * worker thread as production runs: de-identification's own refusals keep their class across the
 * thread, bundles nested 100,000 deep, a birthDate that is no date, QueryEvents times outside the Date
 * range (refused before the query is audited), uint64 values above 2^53 and garbage protobuf bytes for
 * every method. Each refusal names what is wrong and echoes nothing of the input.
 */
import { status } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { Timestamp } from '../../proto/gen/google/protobuf/timestamp.js';
import type { SyntheticRecord } from '../../synthetic/index.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { METHODS, rawCall, rawClient } from '../support/raw-call.js';
import { expectStatus, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
let r: SyntheticRecord;
const record = recordMaker(20261203);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { sealWorkers: 1 });
  s = await openSessions(ex, gw);
  r = record('nanshan-people');
  await grantConsent(s.nanshan, {
    idempotencyKey: idem('grant'),
    patientNationalId: r.patient.nationalId,
    terms: terms({ insurerId: 'taikang-online' }),
  });
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

type Json = Record<string, any>;
let variant = 0;
/** The consented record with `change` applied to its Patient, as a new submission (own identifier). */
function patientChanged(change: (patient: Json) => void): string {
  const bundle = structuredClone(r.bundle) as Json;
  bundle['identifier'] = { system: 'urn:hdx:test', value: `hostile-${(variant += 1)}` };
  change(bundle['entry'].find((e: Json) => e['resource']['resourceType'] === 'Patient')['resource']);
  return JSON.stringify(bundle);
}

/** `depth` levels of `key` (extension or contained) around a leaf, built as text (no recursion). */
function nested(depth: number, open: string, leaf: string): string {
  return open.repeat(depth) + leaf + ']}'.repeat(depth);
}

const submit = (text: string) => submitBundle(s.nanshan, Buffer.from(text));

describe('bundles', () => {
  it('a refusal from de-identification keeps its class across the seal worker: INVALID_ARGUMENT', async () => {
    // Passes the gateway's first-line validation; the de-identification tree refuses it in the worker.
    const error = await expectStatus(
      submit(patientChanged((p) => (p['name'] = ['王小明'] as never))),
      status.INVALID_ARGUMENT,
      /Patient\.name must be an object/,
    );
    expect(error.details).not.toContain('王小明');
  });

  it('a consented record still goes through the worker', async () => {
    const response = await submit(patientChanged(() => {}));
    expect(response.transfers).toHaveLength(1);
  });

  it('an extension nested 100,000 deep: INVALID_ARGUMENT, not a stack overflow', async () => {
    const deep = nested(100_000, '{"url":"x","extension":[', '{"url":"x","valueString":"x"}');
    const text = patientChanged((p) => (p['extension'] = '@@DEEP@@' as never)).replace('"@@DEEP@@"', `[${deep}]`);
    await expectStatus(submit(text), status.INVALID_ARGUMENT, /nests deeper than 64 levels/);
  });

  it('contained resources nested 100,000 deep: INVALID_ARGUMENT', async () => {
    const deep = nested(100_000, '{"resourceType":"Basic","contained":[', '{"resourceType":"Basic"}');
    const text = patientChanged((p) => (p['contained'] = '@@DEEP@@' as never)).replace('"@@DEEP@@"', `[${deep}]`);
    await expectStatus(submit(text), status.INVALID_ARGUMENT, /nests deeper than 64 levels/);
  });

  it('nesting at the limit is accepted', async () => {
    // Bundle › entry › [i] › Patient › extension › 28 × (Extension › extension) › Extension: 63 levels.
    const deep = nested(28, '{"url":"http://x.example/e","extension":[', '{"url":"http://x.example/e","valueString":"x"}');
    const text = patientChanged((p) => (p['extension'] = '@@DEEP@@' as never)).replace('"@@DEEP@@"', `[${deep}]`);
    expect((await submit(text)).transfers).toHaveLength(1);
  });

  for (const [name, value] of [
    ['a word', 'not-a-date'],
    ['a number', 19900307],
    ['an impossible day', '1990-02-30'],
    ['a month 13', '1990-13-01'],
  ] as const) {
    it(`a birthDate that is ${name}: INVALID_ARGUMENT naming Patient.birthDate`, async () => {
      const error = await expectStatus(
        submit(patientChanged((p) => (p['birthDate'] = value))),
        status.INVALID_ARGUMENT,
        /Patient\)?\.birthDate (must be a FHIR date|must be a string|is not a day of the calendar)/,
      );
      expect(error.details).not.toContain(String(value));
    });
  }

  it('a resourceType or an element name the profile does not know is not quoted back', async () => {
    const bundle = JSON.parse(patientChanged(() => {})) as Json;
    bundle['entry'].push({ resource: { resourceType: 'Zhang', id: 'x' } }, { resource: { resourceType: 'Patient-王小明' } });
    bundle['entry'][0]['resource']['Wang Xiaoming'] = 1;
    const error = await expectStatus(submit(JSON.stringify(bundle)), status.INVALID_ARGUMENT);
    for (const echoed of ['Zhang', '王小明', 'Wang Xiaoming']) expect(error.details).not.toContain(echoed);
    expect(gw.logs.join('')).not.toContain('王小明');
  });

  it('no failure above was INTERNAL in the gateway’s log', () => {
    expect(gw.logs.join('')).not.toContain('"code":"INTERNAL"');
  });
});

describe('QueryEvents times outside the Date range', () => {
  const auditSize = () => gw.running.gateway.audit.size;

  for (const field of ['since', 'until'] as const) {
    it(`${field} 10^15 seconds: INVALID_ARGUMENT, and the query is not audited`, async () => {
      const timestamp = Timestamp.encode({ seconds: 1e15, nanos: 0 }).finish();
      const bytes = new BinaryWriter().uint32(field === 'since' ? 10 : 18).bytes(timestamp).finish();
      const before = auditSize();
      const outcome = await rawCall(rawClient(s.regulator), '/hdx.v1.AuditService/QueryEvents', bytes, 'server-stream');
      expect({ code: status[outcome.code], details: outcome.details }).toEqual({
        code: 'INVALID_ARGUMENT',
        details: `${field} is outside the range of representable times`,
      });
      expect(auditSize()).toBe(before);
    });
  }
});

describe('request bytes', () => {
  it('a uint64 above 2^53: INVALID_ARGUMENT', async () => {
    const bytes = new BinaryWriter().uint32(8 << 3).uint64(2n ** 60n).finish();
    const before = gw.running.gateway.audit.size;
    const outcome = await rawCall(rawClient(s.regulator), '/hdx.v1.AuditService/QueryEvents', bytes, 'server-stream');
    expect(status[outcome.code]).toBe('INVALID_ARGUMENT');
    expect(outcome.details).toBe('request holds an integer above 2^53 - 1, the largest this gateway accepts');
    expect(gw.running.gateway.audit.size).toBe(before);
  });

  // Field 1 with wire type 7 (none exists), then bytes a log reader would recognise.
  const garbage = Buffer.concat([Buffer.from([0x0f]), Buffer.from('110101199003078515 王小明', 'utf8')]);
  for (const method of METHODS) {
    it(`garbage for ${method.path}: INVALID_ARGUMENT that echoes nothing`, async () => {
      const caller = method.path.includes('Audit') || method.path.includes('ServiceLevels') ? s.regulator : method.path.includes('Delivery') || method.path.includes('Decision') ? s.taikang : s.nanshan;
      const outcome = await rawCall(rawClient(caller), method.path, garbage, method.kind);
      expect({ code: status[outcome.code], details: outcome.details }).toEqual({
        code: 'INVALID_ARGUMENT',
        details: `request bytes do not decode as a ${method.path.split('/').pop()} request`,
      });
      const logs = gw.logs.join('');
      expect(logs).not.toContain('110101199003078515');
      expect(logs).not.toContain('王小明');
    });
  }
});
