/**
 * The compliance officer's tools against a real gateway (mutual TLS, real SQLite file) after real
 * traffic: evidence that verifies offline and fails, naming the step, when any part is tampered with;
 * inclusion proofs for third parties; the patient query; the streaming export (JSON Lines and FHIR).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEvidence, fetchEvidence, type EvidenceTrust } from '../../compliance/evidence.js';
import type { EvidenceFile } from '../../compliance/evidence-file.js';
import { exportLog } from '../../compliance/export.js';
import { checkInclusionProofFile, proveEvent } from '../../compliance/proofs.js';
import type { ComplianceSession } from '../../compliance/session.js';
import { purgeExpiredPayloads } from '../../gateway/delivery/service.js';
import { leafHash } from '../../keys/transparency/index.js';
import { signSubmission } from '../../keys/formats/submission.js';
import { signTransferEnvelope } from '../../keys/formats/transfer-envelope.js';
import { formatVerifierKey, verifyCheckpoint } from '../../keys/transparency/index.js';
import { unaryCall } from '../../proto/connect.js';
import type { QueryEventsResponse } from '../../proto/gen/hdx/v1/audit.js';
import { QueryEventsRequest } from '../../proto/gen/hdx/v1/audit.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { allEvents, parse, populate, runAuditCli, type Traffic } from './support.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
let traffic: Traffic;
let trust: Required<EvidenceTrust>;

beforeAll(async () => {
  ex = await createTestExchange();
  // Retention 0: ciphertext may be purged right after acknowledgement, as it will be in production later.
  gw = await startTestGateway(ex, { settings: { retentionMs: 0 } });
  s = await openSessions(ex, gw);
  traffic = await populate(ex, s, 6);
  trust = { logVerifierKey: s.regulator.verifierKey, registryPath: join(ex.summary.dir, 'registry.json') };
}, 60_000);

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const first = () => traffic.transfers[0]!;
const withPingan = () => traffic.transfers.find((t) => t.insurerId === 'pingan-health')!;

async function evidenceOf(transferId: string): Promise<EvidenceFile> {
  return JSON.parse(await fetchEvidence(s.regulator, transferId)) as EvidenceFile;
}

/** A JWS whose signature no longer verifies (the first signature character changed). */
function breakSignature(jws: string): string {
  const [h, p, sig] = jws.split('.') as [string, string, string];
  return `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
}

/** An inclusion proof of event `seq` against the checkpoint in `file`. */
async function proofFor(file: EvidenceFile, seq: number) {
  const cp = verifyCheckpoint(file.checkpoint, s.regulator.verifier, s.regulator.origin);
  const response = await unaryCall(s.regulator.clients.audit, s.regulator.clients.audit.getInclusionProof, { seq, treeSize: cp.size });
  return { seq, event: response.event!.eventJson, proof: response.proof.map((p) => Buffer.from(p).toString('base64')) };
}

/** A log key of the right name that the exchange never published. */
const strangerLogKey = () => formatVerifierKey(s.regulator.origin, generateKeyPairSync('ed25519').publicKey);

const check = (file: EvidenceFile, t: EvidenceTrust = trust) => checkEvidence(JSON.stringify(file), t);

describe('evidence for one transfer', () => {
  it('verifies offline: checkpoint, inclusion, the three signatures, and the events agree with them', async () => {
    const file = await evidenceOf(first().transferId);
    expect(file.receipt).toBeTruthy();
    expect(file.submission.signature).toBeTruthy();
    expect(file.events.map((e) => parse({ seq: e.seq, eventJson: e.event, leafHash: Buffer.alloc(0) }).action)).toEqual(
      expect.arrayContaining(['record.submit', 'transfer.create', 'transfer.deliver', 'transfer.acknowledge']),
    );
    const report = await check(file);
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.trust).toEqual({ logKey: 'configured', partyKeys: 'registry' });
    expect(report.proved).toHaveLength(7);
  });

  it('still verifies after the ciphertext was purged: the envelope is checked without its JWE', async () => {
    const purged = await purgeExpiredPayloads(gw.running.gateway);
    expect(purged).toBeGreaterThan(0);
    expect((await gw.running.gateway.transfers.get(first().transferId))!.purged_at).not.toBeNull();
    expect(await gw.running.gateway.transfers.payload(first().transferId)).toBeUndefined();
    const file = await evidenceOf(first().transferId);
    expect(file.events.some((e) => e.event.includes('"transfer.purge"'))).toBe(true);
    expect((await check(file)).ok).toBe(true);
  });

  it('without the officer’s own keys it verifies against the file’s, and says so', async () => {
    const report = await check(await evidenceOf(first().transferId), {});
    expect(report.ok).toBe(true);
    expect(report.trust).toEqual({ logKey: 'evidence file', partyKeys: 'evidence file' });
  });

  describe('a tampered file fails, naming the step', () => {
    const cases: Array<[string, (f: EvidenceFile) => Promise<void> | void, string]> = [
      ['not JSON of the format', (f) => void ((f as { format: string }).format = 'other'), 'parse'],
      ['the checkpoint’s root line', (f) => void (f.checkpoint = f.checkpoint.replace(/\n([A-Za-z0-9+/]{43}=)\n/, (_m, root: string) => `\n${root[0] === 'A' ? 'B' : 'A'}${root.slice(1)}\n`)), 'checkpoint signature'],
      ['the checkpoint’s signature', (f) => void (f.checkpoint = f.checkpoint.replace(/(— \S+ )(\S)/, (_m, a: string, c: string) => `${a}${c === 'A' ? 'B' : 'A'}`)), 'checkpoint signature'],
      ['a proof hash', (f) => void (f.events[1]!.proof[0] = Buffer.alloc(32, 9).toString('base64')), 'inclusion'],
      ['an event’s content', (f) => void (f.events[0]!.event = f.events[0]!.event.replace('"outcome":"ok"', '"outcome":"denied"')), 'inclusion'],
      ['the submission signature', (f) => void (f.submission.signature = breakSignature(f.submission.signature!)), 'submission signature'],
      ['the envelope signature', (f) => void (f.envelope = breakSignature(f.envelope)), 'envelope signature'],
      ['the receipt signature', (f) => void (f.receipt = breakSignature(f.receipt!)), 'receipt signature'],
      ['the receipt removed', (f) => void (f.receipt = null), 'receipt signature'],
      [
        'the transfer.create event swapped for another transfer’s (with a valid proof)',
        async (f) => {
          const other = (await allEvents(s.regulator)).map(parse).find((e) => e.action === 'transfer.create' && e['transfer'] !== f.transferId)!;
          const i = f.events.findIndex((e) => e.event.includes('"transfer.create"'));
          f.events[i] = await proofFor(f, other.seq);
        },
        'hop events',
      ],
      [
        'a transfer.deliver event swapped for another transfer’s (with a valid proof)',
        async (f) => {
          const other = (await allEvents(s.regulator)).map(parse).find((e) => e.action === 'transfer.deliver' && e['transfer'] !== f.transferId)!;
          const i = f.events.findIndex((e) => e.event.includes('"transfer.deliver"'));
          f.events[i] = await proofFor(f, other.seq);
        },
        'events match',
      ],
      [
        'the envelope swapped for another validly signed one',
        async (f) => {
          f.envelope = (await evidenceOf(traffic.transfers[1]!.transferId)).envelope;
        },
        // The insurer's receipt is over the original envelope's digest.
        'receipt signature',
      ],
    ];
    for (const [what, tamper, step] of cases) {
      it(`${what} → ${step}`, async () => {
        const file = await evidenceOf(first().transferId);
        await tamper(file);
        const report = await check(file);
        expect(report.ok).toBe(false);
        expect(report.step).toBe(step);
        expect(report.failure).toMatch(new RegExp(`^${step}: `));
      });
    }

    it('another log key → checkpoint signature', async () => {
      const report = await check(await evidenceOf(first().transferId), { ...trust, logVerifierKey: strangerLogKey() });
      expect(report.step).toBe('checkpoint signature');
    });
  });

  describe('why the officer passes their own registry', () => {
    async function forger() {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const priv = { ...(await exportJWK(privateKey)), kid: 'forged', alg: 'ES256', use: 'sig' };
      const pub = { ...(await exportJWK(publicKey)), kid: 'forged', alg: 'ES256', use: 'sig' };
      return { priv, jwks: { keys: [pub] } };
    }

    it('a submission re-signed by someone else, with their key planted in the file, passes only on the file’s word', async () => {
      const file = await evidenceOf(first().transferId);
      const claims = decodeJwt(file.submission.signature!) as Parameters<typeof signSubmission>[0];
      const f = await forger();
      file.submission.signature = await signSubmission(claims, f.priv);
      file.parties.hospital = { uri: file.parties.hospital!.uri, jwks: f.jwks };
      expect((await check(file, { logVerifierKey: trust.logVerifierKey })).ok).toBe(true);
      const report = await check(file);
      expect(report.step).toBe('submission signature');
    });

    it('an envelope re-signed by someone else fails with the registry, and without it on the logged digest', async () => {
      const file = await evidenceOf(first().transferId);
      const f = await forger();
      file.envelope = await signTransferEnvelope(decodeJwt(file.envelope) as Parameters<typeof signTransferEnvelope>[0], f.priv);
      file.parties.gateway = { uri: file.parties.gateway!.uri, jwks: f.jwks };
      expect((await check(file)).step).toBe('envelope signature');
      // Without the registry the forged signature passes, but the receipt (and the log) hold the real digest.
      expect((await check(file, { logVerifierKey: trust.logVerifierKey })).step).toBe('receipt signature');
      file.receipt = null;
      expect((await check(file, { logVerifierKey: trust.logVerifierKey })).step).toBe('receipt signature');
    });
  });
});

describe('the officer’s saved state', () => {
  it('is read as untrusted: a damaged file fails the run, naming it, and is not overwritten', async () => {
    const { verifyLog } = await import('../../compliance/verify.js');
    const path = join(ex.root, 'damaged-state.json');
    for (const text of ['{', JSON.stringify({ origin: 'hdx.local/audit/v1', treeSize: 3, rootHash: 'AAAA' })]) {
      writeFileSync(path, text);
      const report = await verifyLog(s.regulator, { statePath: path, full: false, sample: 2 });
      expect(report.ok).toBe(false);
      expect(report.failure).toMatch(/^saved state: /);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });
});

describe('inclusion proofs for a third party', () => {
  it('prove → check-proof round trip, and every tampering fails', async () => {
    const seq = parse((await allEvents(s.regulator)).find((e) => e.eventJson.includes('"transfer.create"'))!).seq;
    const proof = await proveEvent(s.regulator, seq);
    const path = join(ex.root, 'proof.json');
    const write = (p: unknown) => writeFileSync(path, JSON.stringify(p));
    write(proof);
    expect(checkInclusionProofFile(path, s.regulator.verifierKey)).toEqual({ ok: true, message: expect.stringContaining(`event ${seq} is in the log`) });
    expect(checkInclusionProofFile(path).message).toMatch(/key inside the file/);

    const tampered: Array<[string, unknown]> = [
      ['event', { ...proof, event: proof.event.replace('"ok"', '"denied"') }],
      ['proof', { ...proof, proof: [Buffer.alloc(32).toString('base64'), ...proof.proof.slice(1)] }],
      ['seq', { ...proof, seq: seq + 1 }],
      ['tree size', { ...proof, treeSize: proof.treeSize + 1 }],
      ['checkpoint', { ...proof, checkpoint: proof.checkpoint.replace(`\n${proof.treeSize}\n`, `\n${proof.treeSize + 1}\n`) }],
      ['format', { ...proof, format: 'x' }],
    ];
    for (const [what, p] of tampered) {
      write(p);
      expect(checkInclusionProofFile(path, s.regulator.verifierKey).ok, what).toBe(false);
    }
    write(proof);
    expect(checkInclusionProofFile(path, strangerLogKey()).ok).toBe(false);
  });
});

describe('who received this patient’s data, when, under which consent', () => {
  async function query(regulator: ComplianceSession, nationalId: string) {
    const stream = regulator.clients.audit.queryEvents(QueryEventsRequest.fromPartial({ patientNationalId: nationalId }));
    const out: Array<Record<string, unknown> & { seq: number; action: string }> = [];
    for await (const m of stream as AsyncIterable<QueryEventsResponse>) if (m.event) out.push(JSON.parse(m.event.eventJson));
    return out;
  }

  it('answers from transfer.create events: recipient, time, consent — and only this patient’s', async () => {
    const patient = withPingan().nationalId;
    const theirs = traffic.transfers.filter((t) => t.nationalId === patient);
    expect(theirs.map((t) => t.insurerId).sort()).toEqual(['pingan-health', 'taikang-online']);

    const events = await query(s.regulator, patient);
    const received = events
      .filter((e) => e.action === 'transfer.create')
      .map((e) => ({ insurer: (e['parties'] as string[])[1], at: e['at'], consent: e['consent'], transfer: e['transfer'] }));
    expect(received.map(({ insurer, consent, transfer }) => ({ insurer, consent, transfer })).sort((a, b) => String(a.insurer).localeCompare(String(b.insurer)))).toEqual(
      theirs
        .map((t) => ({ insurer: t.insurerId, consent: t.consentId, transfer: t.transferId }))
        .sort((a, b) => a.insurer.localeCompare(b.insurer)),
    );
    for (const r of received) expect(Date.parse(String(r.at))).toBeGreaterThan(0);
    // The grants behind them are in the answer too; no other patient's transfer is.
    expect(events.filter((e) => e.action === 'consent.grant').map((e) => e['consent']).sort()).toEqual(theirs.map((t) => t.consentId).sort());
    const others = new Set(traffic.transfers.filter((t) => t.nationalId !== patient).map((t) => t.transferId));
    expect(events.some((e) => others.has(String(e['transfer'])))).toBe(false);
    // Every event answers to one patient reference.
    expect(new Set(events.map((e) => e['patient'])).size).toBe(1);
  });

  it('the national ID is never stored: not in any event (the query’s own included), the database files, or the logs', async () => {
    const patient = withPingan().nationalId;
    await query(s.regulator, patient);
    const events = await allEvents(s.regulator);
    const lastQuery = events.map(parse).filter((e) => e.action === 'audit.query').at(-1)!;
    expect(lastQuery['details']).toEqual({ filters: ['patientNationalId'] });
    const ids = traffic.records.map((r) => r.patient.nationalId);
    const text = events.map((e) => e.eventJson).join('\n');
    for (const id of ids) expect(text).not.toContain(id);
    const dir = ex.summary.gateway.dir;
    const bytes = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('gateway.db')).map((f) => readFileSync(join(dir, f))));
    for (const id of ids) expect(bytes.includes(Buffer.from(id))).toBe(false);
    for (const id of ids) expect(gw.logs.join('')).not.toContain(id);
  });
});

describe('export', () => {
  /** A slow sink that records what it was given, and when. */
  function sink(log?: string[]) {
    const chunks: string[] = [];
    const out = new Writable({
      highWaterMark: 16,
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        log?.push('write');
        setImmediate(done);
      },
    });
    return { out, text: () => chunks.join('') };
  }

  it('JSON Lines: every event as logged, each line hashing to its leaf, checked against the signed root', async () => {
    const { out, text } = sink();
    const report = await exportLog(s.regulator, { format: 'jsonl', out, pageSize: 7 });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(report.treeSize);
    const served = await allEvents(s.regulator);
    lines.forEach((line, i) => {
      expect(line).toBe(served[i]!.eventJson);
      expect(leafHash(Buffer.from(line)).equals(Buffer.from(served[i]!.leafHash))).toBe(true);
    });
  });

  it('FHIR: one AuditEvent per line, disclosures and consents as BALP profiles, no national ID', async () => {
    const { out, text } = sink();
    const report = await exportLog(s.regulator, { format: 'fhir', out });
    expect(report.ok).toBe(true);
    const resources = text().trimEnd().split('\n').map((l) => JSON.parse(l) as { resourceType: string; id: string; meta?: { profile: string[] } });
    expect(resources).toHaveLength(report.treeSize);
    expect(new Set(resources.map((r) => r.resourceType))).toEqual(new Set(['AuditEvent']));
    const profiles = resources.flatMap((r) => r.meta?.profile ?? []);
    // Each transfer is disclosed twice: sealed for the insurer (transfer.create) and handed over
    // (transfer.deliver); both events name the patient, so both claim the profile.
    expect(profiles.filter((p) => p.endsWith('PrivacyDisclosure.Source'))).toHaveLength(2 * traffic.transfers.length);
    expect(profiles.filter((p) => p.endsWith('AuthZconsent')).length).toBeGreaterThanOrEqual(traffic.transfers.length);
    for (const r of traffic.records) expect(text()).not.toContain(r.patient.nationalId);
  });

  it('keeps memory flat: never more than two pages fetched ahead of what was written', async () => {
    const log: string[] = [];
    const real = s.regulator.clients.audit;
    const audit = Object.create(real) as typeof real;
    audit.listEvents = ((...args: Parameters<typeof real.listEvents>) => {
      log.push('fetch');
      return (real.listEvents as (...a: unknown[]) => unknown).apply(real, args);
    }) as typeof real.listEvents;
    const session = { ...s.regulator, clients: { ...s.regulator.clients, audit } };
    const { out } = sink(log);
    const report = await exportLog(session, { format: 'jsonl', out, pageSize: 3 });
    expect(report.ok).toBe(true);
    let fetched = 0;
    let pagesWritten = 0;
    for (const entry of log) {
      if (entry === 'fetch') fetched += 1;
      else pagesWritten += 1;
      expect(fetched - pagesWritten).toBeLessThanOrEqual(2);
    }
    expect(fetched).toBeGreaterThanOrEqual(Math.ceil(report.treeSize / 3));
  });
});

describe('the CLI', () => {
  const hdx = runAuditCli;
  const identity = () => ex.partyDir('szdex');

  it('audit evidence --out, then check-evidence with the officer’s log key and registry; a tampered file exits 1 naming the step', async () => {
    const file = join(ex.root, 'evidence.json');
    const fetched = await hdx('audit', 'evidence', withPingan().transferId, '--identity', identity(), '--gateway', gw.address, '--registry', trust.registryPath, '--out', file);
    expect(fetched.exitCode).toBe(0);
    expect(fetched.out).toMatch(/evidence for trf_\S+ verified/);
    const ok = await hdx('audit', 'check-evidence', file, '--identity', identity(), '--registry', trust.registryPath);
    expect(ok.exitCode).toBe(0);
    expect(ok.out).toMatch(/✓ the receipt over the envelope is signed by the insurer spiffe:\/\/hdx.local\/insurer\/pingan-health/);
    expect(ok.out).not.toMatch(/^!/m);

    const evidence = JSON.parse(readFileSync(file, 'utf8')) as EvidenceFile;
    evidence.receipt = breakSignature(evidence.receipt!);
    writeFileSync(file, JSON.stringify(evidence));
    const bad = await hdx('audit', 'check-evidence', file, '--log-key', s.regulator.verifierKey, '--registry', trust.registryPath);
    expect(bad.exitCode).toBe(1);
    expect(bad.out).toMatch(/✗ receipt signature: /);
  });

  it('audit query --patient-id-file: the patient’s transfers, recipients and consents, as JSON Lines', async () => {
    const t = withPingan();
    const idFile = join(ex.root, 'patient-id.txt');
    writeFileSync(idFile, `${t.nationalId}\n`, { mode: 0o600 });
    const run = await hdx('audit', 'query', '--identity', identity(), '--gateway', gw.address, '--patient-id-file', idFile, '--action', 'transfer.create', '--json');
    expect(run.exitCode).toBe(0);
    const events = run.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { transfer: string; consent: string; parties: string[]; at: string });
    const expected = traffic.transfers.filter((x) => x.nationalId === t.nationalId);
    expect(events.map((e) => [e.transfer, e.consent, e.parties[1]]).sort()).toEqual(expected.map((x) => [x.transferId, x.consentId, x.insurerId]).sort());
    expect(run.out).not.toContain(t.nationalId);
  });

  it('audit export --format fhir --out writes the file only once the root matched', async () => {
    const file = join(ex.root, 'audit.ndjson');
    const run = await hdx('audit', 'export', '--identity', identity(), '--gateway', gw.address, '--format', 'fhir', '--out', file);
    expect(run.exitCode).toBe(0);
    expect(run.err).toMatch(/✓ all \d+ exported events link in one hash chain and hash to the signed root/);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ resourceType: 'AuditEvent', id: 'hdx-0' });
    expect(readdirSync(ex.root).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
