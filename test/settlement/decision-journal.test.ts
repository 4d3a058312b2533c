import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalSent, journalSigned, readJournal } from '../../insurer-adapter/decision-journal.js';

const dirs: string[] = [];
const inbox = () => {
  const d = mkdtempSync(join(tmpdir(), 'hdx-journal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A compact JWS-shaped token whose payload names the decision (the journal never verifies it). */
const token = (jti: string) => `e30.${Buffer.from(JSON.stringify({ jti, hdx: { outcome: 'approved' } })).toString('base64url')}.sig`;

describe("the insurer's decision journal", () => {
  it('keeps signed tokens and answers, and tells what is left to send', async () => {
    const dir = inbox();
    await journalSigned(dir, { transferId: 'trf_a', decisionId: 'dec-a', outcome: 'approved', jws: token('dec-a') });
    await journalSigned(dir, { transferId: 'trf_b', decisionId: 'dec-b', outcome: 'declined', jws: token('dec-b') });
    await journalSent(dir, { transferId: 'trf_a', decisionId: 'dec-a', outcome: 'approved', recordedAt: new Date(), replayed: false });
    const state = readJournal(dir);
    expect([...state.sent]).toEqual(['trf_a']);
    expect(state.signed.get('trf_b')).toMatchObject({ decisionId: 'dec-b', jws: token('dec-b') });
  });

  it('keeps every line of appends made at once, in the order they were made (one write for the lot)', async () => {
    const dir = inbox();
    const ids = Array.from({ length: 50 }, (_, i) => `trf_${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => journalSigned(dir, { transferId: id, decisionId: `dec-${id}`, outcome: 'approved', jws: token(`dec-${id}`) })));
    const lines = readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { signed: { transferId: string } }).signed.transferId)).toEqual(ids);
  });

  it('ignores a line torn by a crash', async () => {
    const dir = inbox();
    await journalSigned(dir, { transferId: 'trf_a', decisionId: 'dec-a', outcome: 'approved', jws: token('dec-a') });
    appendFileSync(join(dir, 'decisions.jsonl'), '{"sent":{"transferId":"trf_a","deci');
    const state = readJournal(dir);
    expect(state.sent.size).toBe(0);
    expect(state.signed.has('trf_a')).toBe(true);
  });

  it('starts on a line of its own after a line torn by a crash, so the next entry is kept', async () => {
    const dir = inbox();
    writeFileSync(join(dir, 'decisions.jsonl'), '{"signed":{"transferId":"trf_a","deci');
    await journalSigned(dir, { transferId: 'trf_b', decisionId: 'dec-b', outcome: 'approved', jws: token('dec-b') });
    await journalSent(dir, { transferId: 'trf_b', decisionId: 'dec-b', outcome: 'approved', recordedAt: new Date(), replayed: false });
    const state = readJournal(dir);
    expect([...state.signed.keys()]).toEqual(['trf_b']);
    expect([...state.sent]).toEqual(['trf_b']);
  });

  it('reads the token and marker files an earlier version left in the inbox', () => {
    const dir = inbox();
    writeFileSync(join(dir, 'trf_old.decision.jws'), token('dec-old'));
    writeFileSync(join(dir, 'trf_done.decision.json'), '{}');
    const state = readJournal(dir);
    expect(state.signed.get('trf_old')).toMatchObject({ decisionId: 'dec-old', outcome: 'approved' });
    expect(state.sent.has('trf_done')).toBe(true);
  });
});
