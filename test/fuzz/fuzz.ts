/**
 * The fuzzer behind `npm run fuzz` and `test/fuzz/fuzz.test.ts`: seeded inputs against a real gateway
 * (mutual TLS on loopback, a real SQLite file, one seal worker): mutated protobuf bytes for every method
 * of the service definitions, and mutated and hostile FHIR bundles from `synthetic/`, signed and sent
 * for a patient who consented. Every outcome is checked: no INTERNAL or UNKNOWN, no hang (a call that
 * runs into its deadline), no planted marker or identifier echoed in an error message or a log line.
 * The same seed gives the same inputs.
 */
import { status } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { isServiceError } from '../../proto/connect.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import { SeededRandom } from '../../synthetic/random.js';
import { idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { METHODS, rawCall, rawClient, type MethodInfo } from '../support/raw-call.js';

/** Planted in every string a seed message carries: it must never come back. */
export const MARKER = 'FUZZMARK';
const SUBMIT_BUNDLE = 'SubmitRecord (bundle)';

export interface FuzzOptions {
  seed: number;
  /** Mutated protobuf requests, spread over the methods. */
  protobufInputs: number;
  /** Mutated or hostile bundles, submitted signed. */
  bundleInputs: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** A call still running after this long is a hang (it ends DEADLINE_EXCEEDED). */
  deadlineMs?: number;
}

export interface FuzzReport {
  inputs: number;
  /** method → status name → count. */
  statuses: Map<string, Map<string, number>>;
  failures: string[];
  rssMb: { warm: number; end: number };
}

type Rng = SeededRandom;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length - 1)]!;

// ---- protobuf bytes -------------------------------------------------------------------------------

/** Requests worth mutating per method: valid ones reach further than garbage. */
function seedsFor(method: MethodInfo, record: SyntheticRecord): Buffer[] {
  const rpc = method.path.split('/').pop()!;
  const text = (suffix: string) => `${MARKER}-${suffix}`;
  const plain: Record<string, unknown[]> = {
    GrantConsent: [{ idempotencyKey: text('k'), patientNationalId: record.patient.nationalId, terms: terms({ insurerId: 'taikang-online', policyNumber: text('p') }) }],
    RevokeConsent: [{ idempotencyKey: text('k'), consentId: text('c') }],
    GetConsent: [{ consentId: text('c') }],
    ListConsents: [{ patientNationalId: record.patient.nationalId }],
    SubmitRecord: [{ idempotencyKey: text('k'), bundle: Buffer.from(JSON.stringify(record.bundle)), purpose: 1, signature: text('s') }],
    SubmitRecords: [{ sequence: 1, record: { idempotencyKey: text('k'), bundle: Buffer.from(JSON.stringify(record.bundle)), purpose: 1, signature: text('s') } }],
    GetSubmission: [{ submissionId: text('s') }],
    PullTransfers: [{ maxTransfers: 5, follow: false, leaseSeconds: 1 }],
    AcknowledgeTransfer: [{ idempotencyKey: text('k'), transferId: text('t'), receipt: text('r') }],
    GetPartyKeys: [{ partyId: text('p') }],
    SubmitDecision: [{ idempotencyKey: text('k'), decision: text('d') }],
    StreamDecisions: [{ afterCursor: 0, follow: false }],
    AcknowledgeDecisions: [{ throughCursor: 1 }],
    GetServiceLevels: [{ since: new Date(Date.now() - 86_400_000), until: new Date() }],
    QueryEvents: [{ since: new Date(Date.now() - 86_400_000), partyId: text('p'), transferId: text('t'), limit: 5 }],
    GetInclusionProof: [{ seq: 1, treeSize: 2 }],
    GetConsistencyProof: [{ size1: 1, size2: 2 }],
    ListEvents: [{ startSeq: 0, limit: 5 }],
    ListTreeNodes: [{ fromSize: 0, toSize: 2 }],
    GetEvidence: [{ transferId: text('t') }],
  };
  const seeds = [method.encode(method.decode(Buffer.alloc(0)) as never)];
  for (const message of plain[rpc] ?? []) {
    try {
      seeds.push(method.encode(message as never));
    } catch {
      // A seed that does not fit the message (a field renamed): the empty request still seeds it.
    }
  }
  return seeds;
}

/** One of a handful of byte-level mutations, sometimes stacked. */
function mutateBytes(rng: Rng, seed: Buffer): Buffer {
  let bytes: Buffer = Buffer.from(seed);
  const rounds = rng.int(1, 4);
  for (let i = 0; i < rounds; i++) {
    const at = bytes.length === 0 ? 0 : rng.int(0, bytes.length - 1);
    switch (rng.int(0, 7)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << rng.int(0, 7));
        break;
      case 1: // set a byte
        if (bytes.length > 0) bytes[at] = rng.int(0, 255);
        break;
      case 2: // insert random bytes
        bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(rng, rng.int(1, 16)), bytes.subarray(at)]);
        break;
      case 3: // delete a range
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.int(1, 16)))]);
        break;
      case 4: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 5: // append a field with any tag and wire type, e.g. a uint64 above 2^53
        bytes = Buffer.concat([bytes, extraField(rng)]);
        break;
      case 6: // duplicate a slice
        bytes = Buffer.concat([bytes, bytes.subarray(at, at + rng.int(1, 32))]);
        break;
      default: // all random
        bytes = randomBytes(rng, rng.int(0, 64));
    }
  }
  return bytes;
}

function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
}

function extraField(rng: Rng): Buffer {
  const field = rng.int(1, 20);
  const writer = new BinaryWriter();
  switch (rng.int(0, 3)) {
    case 0:
      writer.uint32((field << 3) | 0).uint64((BigInt(rng.int(0, 2 ** 31)) * BigInt(rng.int(1, 2 ** 31)) * 8n) % 2n ** 64n);
      break;
    case 1:
      writer.uint32((field << 3) | 2).bytes(randomBytes(rng, rng.int(0, 24)));
      break;
    case 2: // a Timestamp far outside the Date range
      writer.uint32((field << 3) | 2).bytes(new BinaryWriter().uint32(8).int64(BigInt(rng.int(1, 9)) * 10n ** 15n).finish());
      break;
    default:
      writer.uint32((field << 3) | rng.int(0, 7));
  }
  return Buffer.from(writer.finish());
}

/** Follow streams wait for new events by design: a mutated request that follows is made not to. */
function notFollowing(method: MethodInfo, bytes: Buffer): Buffer {
  if (method.kind !== 'server-stream') return bytes;
  try {
    const request = method.decode(bytes) as { follow?: boolean };
    if (request.follow) return method.encode({ ...request, follow: false } as never);
  } catch {
    // Undecodable: the gateway refuses it at once.
  }
  return bytes;
}

// ---- FHIR bundles ---------------------------------------------------------------------------------

type Json = any;
const HOSTILE_VALUES: unknown[] = [
  null,
  '',
  0,
  -1,
  1e308,
  true,
  [],
  {},
  [null],
  'not-a-date',
  '1990-02-30',
  '9999-99-99T99:99:99Z',
  `${MARKER}-value`,
  `\u0000${MARKER}\uffff`,
  '𠮷'.repeat(200),
  'x'.repeat(70_000),
  { resourceType: 'Patient' },
  { url: `${MARKER}-url`, valueString: MARKER },
  '../../etc/passwd',
  '<script>alert(1)</script>',
];

/** Every (container, key) in the tree, iteratively. */
function slots(root: Json): Array<[Json, string | number]> {
  const out: Array<[Json, string | number]> = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      out.push([node, key]);
      const child = node[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return out;
}

function deep(depth: number, open: string, leaf: string): string {
  return open.repeat(depth) + leaf + ']}'.repeat(depth);
}

/** A mutated or hostile version of the record's bundle, as text. */
function mutateBundle(rng: Rng, record: SyntheticRecord, n: number): string {
  const bundle = structuredClone(record.bundle) as Json;
  bundle.identifier = { system: 'urn:hdx:fuzz', value: `fuzz-${n}` };
  const roll = rng.int(0, 19);
  if (roll === 0) {
    const text = JSON.stringify(bundle);
    return text.replace('"resourceType":"Patient"', `"resourceType":"Patient","extension":[${deep(rng.int(65, 50_000), '{"url":"x","extension":[', '{"url":"x"}')}]`);
  }
  if (roll === 1) {
    const text = JSON.stringify(bundle);
    return text.replace('"resourceType":"Patient"', `"resourceType":"Patient","contained":[${deep(rng.int(65, 50_000), '{"resourceType":"Basic","contained":[', '{"resourceType":"Basic"}')}]`);
  }
  if (roll === 2) {
    // Text damage: a cut, a stray byte.
    const text = JSON.stringify(bundle);
    const at = rng.int(0, text.length - 1);
    return rng.chance(0.5) ? text.slice(0, at) : text.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + text.slice(at + 1);
  }
  const rounds = rng.int(1, 6);
  for (let i = 0; i < rounds; i++) {
    const all = slots(bundle);
    const [container, key] = pick(rng, all);
    switch (rng.int(0, 4)) {
      case 0:
        if (Array.isArray(container)) container.splice(key as number, 1);
        else delete container[key];
        break;
      case 1:
        container[key] = structuredClone(pick(rng, HOSTILE_VALUES));
        break;
      case 2: // swap with another slot's value
        {
          const [other, otherKey] = pick(rng, all);
          if (other !== container[key]) container[key] = structuredClone(other[otherKey]);
        }
        break;
      case 3: // duplicate an array item many times
        if (Array.isArray(container[key])) container[key].push(...Array.from({ length: rng.int(1, 50) }, () => structuredClone(container[key][0])));
        else container[key] = [container[key]];
        break;
      default: // a string turned into the planted marker
        if (typeof container[key] === 'string') container[key] = `${MARKER}${container[key]}`;
    }
  }
  return JSON.stringify(bundle);
}

// ---- the run --------------------------------------------------------------------------------------

export async function runFuzz(ex: TestExchange, options: FuzzOptions, onProgress?: (done: number, total: number) => void): Promise<FuzzReport> {
  const rng = new SeededRandom(options.seed);
  const deadlineMs = options.deadlineMs ?? 60_000;
  const gw: TestGateway = await startTestGateway(ex, { sealWorkers: 1 });
  const failures: string[] = [];
  const crash = (error: unknown) => failures.push(`crash: ${(error as Error)?.name ?? 'error'} escaped (${String((error as Error)?.stack).split('\n')[1]?.trim()})`);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  let s: Sessions | undefined;
  const statuses = new Map<string, Map<string, number>>();
  try {
    s = await openSessions(ex, gw);
    const sessions = s;
    const gen = createGenerator(options.seed);
    const records = Array.from({ length: 8 }, () => gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) }));
    for (const record of records) {
      await grantConsent(sessions.nanshan, { idempotencyKey: idem('fuzz'), patientNationalId: record.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) });
    }
    // Values that must never appear in an error or a log line: the marker and every planted identifier.
    const secrets = [MARKER, ...new Set(records.flatMap((r) => [r.patient.nationalId, ...r.identifiers]).filter((v) => v.length >= 6))];
    const clients = { hospital: rawClient(sessions.nanshan), insurer: rawClient(sessions.taikang), regulator: rawClient(sessions.regulator) };
    const callerFor = (path: string) =>
      /AuditService|ServiceLevels/.test(path)
        ? clients.regulator
        : /DeliveryService|SubmitDecision/.test(path)
          ? clients.insurer
          : clients.hospital;
    const seeds = new Map(METHODS.map((m) => [m.path, records.flatMap((r) => seedsFor(m, r))]));

    const count = (method: string, code: status, details: string) => {
      const name = status[code] ?? String(code);
      const row = statuses.get(method) ?? new Map<string, number>();
      row.set(name, (row.get(name) ?? 0) + 1);
      statuses.set(method, row);
      if (code === status.INTERNAL || code === status.UNKNOWN) failures.push(`${method}: ${name} (${details})`);
      if (code === status.DEADLINE_EXCEEDED) failures.push(`${method}: hang (no answer within ${deadlineMs} ms)`);
      for (const secret of secrets) {
        if (!details.includes(secret)) continue;
        // Which part of the message, with the echoed value masked (the secret is synthetic, but still).
        failures.push(`${method}: error message echoes input: ${details.replaceAll(secret, '<echo>').slice(0, 200)}`);
      }
    };

    // Each input is drawn from the seed when it is taken (in order, so a run is reproducible whatever the
    // concurrency) and dropped once answered: hostile bundles are megabytes each.
    const total = options.protobufInputs + options.bundleInputs;
    let protobufLeft = options.protobufInputs;
    let bundlesLeft = options.bundleInputs;
    let methodTurn = 0;
    const makeInput = (): (() => Promise<void>) => {
      const bundle = bundlesLeft > 0 && (protobufLeft === 0 || rng.next() < bundlesLeft / (bundlesLeft + protobufLeft));
      if (bundle) {
        bundlesLeft -= 1;
        const text = mutateBundle(rng, pick(rng, records), bundlesLeft);
        return async () => {
          try {
            await submitBundle(sessions.nanshan, Buffer.from(text), 'DIRECT_SETTLEMENT', { forMs: 0 });
            count(SUBMIT_BUNDLE, status.OK, '');
          } catch (error) {
            if (!isServiceError(error)) throw error;
            count(SUBMIT_BUNDLE, error.code, error.details);
          }
        };
      }
      protobufLeft -= 1;
      const method = METHODS[methodTurn++ % METHODS.length]!;
      const bytes = notFollowing(method, mutateBytes(rng, pick(rng, seeds.get(method.path)!)));
      const client = rng.chance(0.8) ? callerFor(method.path) : pick(rng, Object.values(clients));
      const rpc = method.path.split('/').pop()!;
      return async () => {
        const outcome = await rawCall(client, method.path, bytes, method.kind, deadlineMs);
        count(rpc, outcome.code, outcome.details);
      };
    };

    let next = 0;
    let done = 0;
    let warm = 0;
    const warmAt = Math.floor(total / 10);
    const worker = async () => {
      while (next < total) {
        next += 1;
        const input = makeInput();
        try {
          await input();
        } catch (error) {
          failures.push(`client: ${(error as Error)?.message ?? String(error)}`);
        }
        done += 1;
        if (done === warmAt) warm = rssMb();
        if (done % 500 === 0) onProgress?.(done, total);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
    if (warm === 0) warm = rssMb();

    // Still serving after all of it.
    const after = await rawCall(clients.hospital, '/hdx.v1.DirectoryService/GetJwks', Buffer.alloc(0), 'unary', deadlineMs);
    if (after.code !== status.OK) failures.push(`the gateway no longer serves (GetJwks: ${status[after.code]})`);

    const logs = gw.logs.join('');
    for (const line of gw.logs) {
      for (const secret of secrets) if (line.includes(secret)) failures.push(`a log line echoes input: ${line.replaceAll(secret, '<echo>').slice(0, 300)}`);
    }
    if (logs.includes('"code":"INTERNAL"') || logs.includes('"code":"UNKNOWN"')) failures.push('the gateway logged an INTERNAL or UNKNOWN outcome');
    const end = rssMb();
    return { inputs: total, statuses, failures, rssMb: { warm, end } };
  } finally {
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    s?.closeAll();
    await gw.stop();
  }
}

function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

/** The report as a table: one row per method, one column per status seen. */
export function statusTable(report: FuzzReport): string {
  const columns = [...new Set([...report.statuses.values()].flatMap((row) => [...row.keys()]))].sort();
  const rows = [...report.statuses.entries()].sort(([a], [b]) => a.localeCompare(b));
  const header = ['method', ...columns, 'total'];
  const body = rows.map(([method, row]) => [method, ...columns.map((c) => String(row.get(c) ?? '')), String([...row.values()].reduce((a, b) => a + b, 0))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
