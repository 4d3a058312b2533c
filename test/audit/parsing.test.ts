/**
 * The officer's tool reads untrusted JSON: the event chain, logged events and evidence files are parsed
 * defensively, and errors name the field or position, never a value.
 */
import { describe, expect, it } from 'vitest';
import { EventMalformed, parseLoggedEvent } from '../../compliance/audit-event.js';
import { ChainBreak, EventChain } from '../../compliance/event-chain.js';
import { EvidenceMalformed, parseEvidenceFile } from '../../compliance/evidence-file.js';
import { RootAccumulator } from '../../compliance/root-accumulator.js';
import { canonicalJson } from '../../keys/canonical.js';
import { leafHash, rootFromLeaves } from '../../keys/transparency/index.js';

/** A well-formed log of `n` events, as the gateway writes them. */
function log(n: number): string[] {
  const out: string[] = [];
  let prev = '';
  for (let seq = 0; seq < n; seq++) {
    const json = canonicalJson({ v: 1, seq, at: '2026-11-20T08:00:00.000Z', prev, action: 'consent.grant', actor: 'nanshan-people', outcome: 'ok', consent: `cns_${seq}`, details: { n: seq } });
    out.push(json);
    prev = leafHash(Buffer.from(json)).toString('base64');
  }
  return out;
}

describe('EventChain', () => {
  it('accepts a well-formed log and reproduces the RFC 9162 root, for every size up to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const events = log(n);
      const chain = new EventChain();
      events.forEach((json, seq) => chain.push(seq, json, leafHash(Buffer.from(json))));
      expect(chain.root().equals(rootFromLeaves(events.map((e) => leafHash(Buffer.from(e)))))).toBe(true);
    }
  });

  it('computes leaves exactly as leafHash does, also for non-ASCII text', () => {
    const json = canonicalJson({ v: 1, seq: 0, at: '2026-11-20T08:00:00.000Z', prev: '', action: 'x', actor: '南山', outcome: 'ok' });
    expect(new EventChain().push(0, json).leaf.equals(leafHash(Buffer.from(json, 'utf8')))).toBe(true);
  });

  const breaks: Array<[string, (events: string[]) => [number, string, Uint8Array?], number, RegExp]> = [
    ['a missing event', (e) => [4, e[4]!], 3, /event 3 is missing/],
    ['not JSON', () => [3, '{"v":1,'], 3, /event 3 is not JSON/],
    ['JSON that is not an object', () => [3, '[]'], 3, /event 3 claims another position/],
    ['another position inside', (e) => [3, e[3]!.replace('"seq":3', '"seq":4')], 3, /claims another position/],
    ['a broken link', (e) => [3, e[3]!.replace('"prev":"', '"prev":"A')], 2, /breaks at event 2/],
    ['a stored leaf that does not match', (e) => [3, e[3]!, Buffer.alloc(32)], 3, /stored leaf hash/],
  ];
  for (const [what, make, at, message] of breaks) {
    it(`names the position of ${what}`, () => {
      const events = log(6);
      const chain = new EventChain();
      for (let i = 0; i < 3; i++) chain.push(i, events[i]!);
      const [seq, json, stored] = make(events);
      const error = (() => {
        try {
          chain.push(seq, json, stored);
        } catch (e) {
          return e;
        }
        return undefined;
      })() as ChainBreak;
      expect(error).toBeInstanceOf(ChainBreak);
      expect(error.seq).toBe(at);
      expect(error.message).toMatch(message);
    });
  }

  it('RootAccumulator agrees with rootFromLeaves', () => {
    const leaves = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from([i & 255, i >> 8])));
    const acc = new RootAccumulator();
    leaves.forEach((leaf, i) => {
      acc.push(leaf);
      if (i % 37 === 0) expect(acc.root().equals(rootFromLeaves(leaves.slice(0, i + 1)))).toBe(true);
    });
  });
});

describe('parseLoggedEvent', () => {
  const good = log(1)[0]!;
  it('reads a logged event', () => {
    expect(parseLoggedEvent(good)).toMatchObject({ v: 1, seq: 0, action: 'consent.grant', consent: 'cns_0', parties: [], details: { n: 0 } });
  });
  const bad: Array<[string, string]> = [
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', good.replace('"v":1', '"v":2')],
    ['a negative seq', good.replace('"seq":0', '"seq":-1')],
    ['a numeric actor', good.replace('"actor":"nanshan-people"', '"actor":5')],
    ['parties not strings', good.replace('"outcome"', '"parties":[1],"outcome"')],
    ['a nested detail', good.replace('"details":{"n":0}', '"details":{"n":{"deep":{"x":1}}}')],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => parseLoggedEvent(text)).toThrow(EventMalformed);
    });
  }
});

describe('parseEvidenceFile', () => {
  const hash = Buffer.alloc(32, 1).toString('base64');
  const file = {
    format: 'hdx-evidence/v1',
    transferId: 'trf_1',
    checkpoint: 'hdx.local/audit/v1\n1\nAAAA\n\n— x y\n',
    logVerifierKey: 'k',
    parties: { gateway: { uri: 'spiffe://hdx.local/gateway/gateway', jwks: { keys: [] } } },
    submission: { signature: 'a.b.c', bundleDigest: 'sha256:x' },
    envelope: 'a.b.c',
    receipt: null,
    events: [{ seq: 0, event: '{}', proof: [hash] }],
  };
  it('reads a well-formed file', () => {
    expect(parseEvidenceFile(JSON.stringify(file))).toMatchObject({ transferId: 'trf_1', receipt: null, events: [{ seq: 0 }] });
  });
  const bad: Array<[string, unknown]> = [
    ['another format', { ...file, format: 'hdx-evidence/v0' }],
    ['no events', { ...file, events: [] }],
    ['a proof hash that is not 32 bytes', { ...file, events: [{ seq: 0, event: '{}', proof: ['AAAA'] }] }],
    ['a fractional seq', { ...file, events: [{ seq: 0.5, event: '{}', proof: [] }] }],
    ['keys that are not a JWKS', { ...file, parties: { gateway: { uri: 'x', jwks: { keys: 'no' } } } }],
    ['a numeric envelope', { ...file, envelope: 1 }],
  ];
  for (const [what, value] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      expect(() => parseEvidenceFile(JSON.stringify(value))).toThrow(EvidenceMalformed);
    });
  }
  it('refuses text that is not JSON, keeping the cause', () => {
    const error = (() => {
      try {
        parseEvidenceFile('{');
      } catch (e) {
        return e as EvidenceMalformed;
      }
      return undefined;
    })();
    expect(error?.message).toBe('evidence file is not JSON');
    expect(error?.cause).toBeInstanceOf(SyntaxError);
  });
});
