import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../support/conformance.js';
import {
  KeyMalformedError,
  NoteMalformedError,
  NoteSignatureError,
  NoteUnverifiedError,
  createNoteSigner,
  createNoteVerifier,
  ed25519KeyId,
  formatVerifierKey,
  generateNoteKey,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from '../../keys/transparency/index.js';

const SPEC = readFileSync(
  conformancePath('c2sp', 'signed-note.md'),
  'utf8',
);

/** The example verifier key and note of signed-note.md §"Verifier keys / Example", taken from the file. */
function specExample(): { vkey: string; note: string } {
  const m = /The following verifier key\n\n {4}(\S+)\n\nverifies the following signed note\n\n```\n([\s\S]*?)```/.exec(SPEC);
  if (!m) throw new Error('example not found in signed-note.md');
  return { vkey: m[1]!, note: m[2]! };
}
/** The first example of the spec (quasimodo), for which the spec gives no key. */
function specQuasimodo(): string {
  const m = /```\n(Ognuno[\s\S]*?)```/.exec(SPEC);
  if (!m) throw new Error('quasimodo example not found');
  return m[1]!;
}

// golang.org/x/mod/sumdb/note's test vector (also in cloudflare/azul's signed_note port): Ed25519 is
// deterministic, so signing must reproduce the published note byte for byte.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE =
  GO_TEXT +
  '\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

describe('signed note: the C2SP vector', () => {
  const { vkey, note } = specExample();

  it('the extracted example is the one in the spec', () => {
    expect(vkey).toBe('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    expect(note.startsWith('This is an example message.\n\n\u2014 example.com/foo Uw2Q')).toBe(true);
  });

  it('verifies, as a string and as bytes', () => {
    const verifier = parseVerifierKey(vkey);
    expect(verifier.name).toBe('example.com/foo');
    expect(verifier.keyId).toBe(0x530d903a);
    for (const input of [note, Buffer.from(note, 'utf8')]) {
      const opened = openNote(input, verifier);
      expect(opened.text).toBe('This is an example message.\n');
      expect(opened.verified).toHaveLength(1);
      expect(opened.verified[0]!.keyId).toBe(0x530d903a);
      expect(opened.unverified).toHaveLength(0);
    }
  });

  it('recomputes the key ID from name and key', () => {
    const raw = Buffer.from('AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', 'base64').subarray(1);
    expect(ed25519KeyId('example.com/foo', raw)).toBe(0x530d903a);
    expect(formatVerifierKey('example.com/foo', raw)).toBe(vkey);
  });

  it('rejects a tampered text', () => {
    const verifier = parseVerifierKey(vkey);
    expect(() => openNote(note.replace('example message', 'example massage'), verifier)).toThrow(NoteSignatureError);
    expect(() => openNote(note.replace('message.\n', 'message. \n'), verifier)).toThrow(NoteSignatureError);
  });

  it('rejects a tampered signature', () => {
    const verifier = parseVerifierKey(vkey);
    const line = note.split('\n')[2]!;
    const b64 = line.split(' ')[2]!;
    const sig = Buffer.from(b64, 'base64');
    sig[10]! ^= 0x01;
    expect(() => openNote(note.replace(b64, sig.toString('base64')), verifier)).toThrow(NoteSignatureError);
    const short = sig.subarray(0, 40).toString('base64');
    expect(() => openNote(note.replace(b64, short), verifier)).toThrow(NoteSignatureError);
  });

  it('ignores signatures by unknown keys, and requires a known one', () => {
    const other = parseVerifierKey(GO_VKEY);
    expect(() => openNote(note, other)).toThrow(NoteUnverifiedError);
    // Same name, other key ID; same key ID, other name: both unknown, both ignored.
    const { verifierKey } = generateNoteKey('example.com/foo');
    expect(() => openNote(note, parseVerifierKey(verifierKey))).toThrow(NoteUnverifiedError);
    const renamed = note.replace('\u2014 example.com/foo ', '\u2014 example.com/bar ');
    expect(() => openNote(renamed, parseVerifierKey(vkey))).toThrow(NoteUnverifiedError);
    // With the right key among several, an extra unknown signature is reported, not checked.
    const extra = `${note}\u2014 someone.example/else AAAAAAAA\n`;
    const opened = openNote(extra, [other, parseVerifierKey(vkey)]);
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/foo']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['someone.example/else']);
  });

  it('the quasimodo example parses but no key we know signed it', () => {
    expect(() => openNote(specQuasimodo(), parseVerifierKey(vkey))).toThrow(NoteUnverifiedError);
  });
});

describe('signed note: malformed input', () => {
  const { vkey, note } = specExample();
  const verifier = parseVerifierKey(vkey);
  const sigLine = note.split('\n')[2]!;

  const cases: Array<[string, string | Uint8Array]> = [
    ['missing final newline', note.slice(0, -1)],
    ['no blank line', note.replace('message.\n\n', 'message.\n')],
    ['text without final newline', `This is an example message.\n${sigLine}\n`],
    ['no signatures', 'This is an example message.\n\n'],
    ['hyphen instead of em dash', note.replace('\u2014', '-')],
    ['en dash instead of em dash', note.replace('\u2014', '\u2013')],
    ['no space after the dash', note.replace('\u2014 ', '\u2014')],
    ['no key name', note.replace('\u2014 example.com/foo ', '\u2014  ')],
    ['name with a plus', note.replace('example.com/foo ', 'example.com+foo ')],
    ['no signature', note.replace(/ Uw2Q\S+/, '')],
    ['signature not base64', note.replace('Uw2Q', 'Uw2Q*')],
    ['signature with missing padding', note.replace('aQM=', 'aQM')],
    ['signature of 4 bytes', note.replace(/Uw2Q\S+/, 'Uw2QOg==')],
    ['carriage return', note.replace('message.\n', 'message.\r\n')],
    ['tab in text', note.replace('an example', 'an\texample')],
    ['NUL byte', note.replace('example', 'exa\u0000mple')],
    ['trailing junk line', `${note}junk\n`],
    ['invalid UTF-8 bytes', Buffer.concat([Buffer.from('caf'), Buffer.of(0xc3), Buffer.from(note.slice(3))])],
    ['lone surrogate', note.replace('example message', 'example \ud800message')],
    ['too many signatures', `This is an example message.\n\n${`${sigLine}\n`.repeat(101)}`],
  ];
  for (const [name, input] of cases) {
    it(`rejects: ${name}`, () => {
      expect(() => openNote(input, verifier)).toThrow(NoteMalformedError);
    });
  }

  it('a blank line inside the signature block makes the earlier lines part of the text', () => {
    // The text is split at the *last* blank line: the signature is then over a different text.
    expect(() => openNote(`${note}\n${sigLine}\n`, verifier)).toThrow(NoteSignatureError);
  });

  it('accepts the same signature repeated (checked once) and 16+ unknown signatures', () => {
    const opened = openNote(`${note}${sigLine}\n${'\u2014 x.example/y AAAAAAAA\n'.repeat(20)}`, verifier);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(1); // identical unknown lines collapse
  });

  it('keeps a leading BOM as part of the signed text (and so fails the signature)', () => {
    expect(() => openNote(Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), Buffer.from(note)]), verifier)).toThrow(
      NoteSignatureError,
    );
  });

  it('caller misuse is a TypeError', () => {
    expect(() => openNote(note, [])).toThrow(TypeError);
    expect(() => openNote(note, [verifier, parseVerifierKey(vkey)])).toThrow(TypeError);
    expect(() => openNote(42 as unknown as string, verifier)).toThrow(TypeError);
  });
});

describe('signed note: signing and keys', () => {
  it('reproduces Go’s note vector byte for byte', () => {
    const signer = parseSignerKey(GO_SKEY);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signNote(GO_TEXT, signer)).toBe(GO_NOTE);
    const opened = openNote(GO_NOTE, parseVerifierKey(GO_VKEY));
    expect(opened.text).toBe(GO_TEXT);
  });

  it('generated keys round-trip, and several signers sign one note', () => {
    const a = generateNoteKey('hdx.local/audit/v1');
    const b = generateNoteKey('witness.example/w1');
    expect(a.signerKey.startsWith('PRIVATE+KEY+hdx.local/audit/v1+')).toBe(true);
    const text = 'hdx.local/audit/v1\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nempty line above is allowed\n';
    const signed = signNote(text, [parseSignerKey(a.signerKey), parseSignerKey(b.signerKey)]);
    const both = openNote(signed, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]);
    expect(both.text).toBe(text);
    expect(both.verified.map((s) => s.name)).toEqual(['hdx.local/audit/v1', 'witness.example/w1']);
    const one = openNote(signed, parseVerifierKey(b.verifierKey));
    expect(one.verified.map((s) => s.name)).toEqual(['witness.example/w1']);
    expect(one.unverified.map((s) => s.name)).toEqual(['hdx.local/audit/v1']);
  });

  it('works from Node KeyObjects', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = createNoteSigner('hdx.local/audit/v1', privateKey);
    const vkey = formatVerifierKey('hdx.local/audit/v1', publicKey);
    expect(formatVerifierKey('hdx.local/audit/v1', privateKey)).toBe(vkey);
    const signed = signNote('hello\n', signer);
    expect(openNote(signed, parseVerifierKey(vkey)).text).toBe('hello\n');
    expect(openNote(signed, createNoteVerifier('hdx.local/audit/v1', publicKey)).text).toBe('hello\n');
  });

  it('a signer that lies about its key ID produces notes that do not verify', () => {
    const real = parseSignerKey(GO_SKEY);
    const liar: NoteSigner = { name: 'PeterNeumann', keyId: 0x530d903a, sign: (m) => real.sign(m) };
    const forged = signNote(GO_TEXT, liar);
    expect(() => openNote(forged, parseVerifierKey(GO_VKEY))).toThrow(NoteUnverifiedError);
  });

  it('refuses to sign invalid text or with invalid names (TypeError)', () => {
    const signer = parseSignerKey(GO_SKEY);
    expect(() => signNote('no newline', signer)).toThrow(TypeError);
    expect(() => signNote('tab\there\n', signer)).toThrow(TypeError);
    expect(() => signNote('ok\n', [])).toThrow(TypeError);
    expect(() => generateNoteKey('has space')).toThrow(TypeError);
    expect(() => generateNoteKey('has+plus')).toThrow(TypeError);
    expect(() => generateNoteKey('')).toThrow(TypeError);
  });

  it('rejects malformed key strings with KeyMalformedError', () => {
    const bad = [
      'PeterNeumann+c74f20a3', // two parts
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong ID
      'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // upper-case hex
      'PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // algorithm 0x02
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', // not base64
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // space in name
      '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // empty name
    ];
    for (const vkey of bad) expect(() => parseVerifierKey(vkey), vkey).toThrow(KeyMalformedError);
    expect(() => parseSignerKey(GO_VKEY)).toThrow(KeyMalformedError);
    expect(() => parseSignerKey(GO_SKEY.replace('c74f20a3', 'c74f20a4'))).toThrow(KeyMalformedError);
    expect(() => parseVerifierKey(GO_SKEY)).toThrow(KeyMalformedError);
  });
});
