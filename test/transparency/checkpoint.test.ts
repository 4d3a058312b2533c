import { describe, expect, it } from 'vitest';
import {
  CheckpointMalformedError,
  HDX_AUDIT_ORIGIN,
  NoteSignatureError,
  NoteUnverifiedError,
  OriginMismatchError,
  TransparencyError,
  eventLeafHash,
  formatCheckpoint,
  generateNoteKey,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  rootFromLeaves,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
} from '../../keys/transparency/index.js';

const ROOT = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
const key = generateNoteKey(HDX_AUDIT_ORIGIN);
const signer = parseSignerKey(key.signerKey);
const verifier = parseVerifierKey(key.verifierKey);

describe('checkpoint format', () => {
  it('formats the spec example body exactly', () => {
    expect(formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: ROOT })).toBe(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
  });

  it('round-trips, with and without extension lines, and for the empty tree', () => {
    for (const cp of [
      { origin: HDX_AUDIT_ORIGIN, size: 0, rootHash: rootFromLeaves([]), extensions: [] },
      { origin: HDX_AUDIT_ORIGIN, size: 3, rootHash: rootFromLeaves([1, 2, 3].map((n) => eventLeafHash({ n }))), extensions: [] },
      { origin: 'other.example/log', size: Number.MAX_SAFE_INTEGER, rootHash: ROOT, extensions: ['ext one', 'x'] },
    ]) {
      const parsed = parseCheckpoint(formatCheckpoint(cp));
      expect(parsed.origin).toBe(cp.origin);
      expect(parsed.size).toBe(cp.size);
      expect(parsed.rootHash.equals(cp.rootHash)).toBe(true);
      expect(parsed.extensions).toEqual(cp.extensions);
    }
  });

  const good = `${HDX_AUDIT_ORIGIN}\n5\n${ROOT.toString('base64')}\n`;
  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['no final newline', good.slice(0, -1)],
    ['two lines', `${HDX_AUDIT_ORIGIN}\n5\n`],
    ['empty origin', `\n5\n${ROOT.toString('base64')}\n`],
    ['leading zero', good.replace('\n5\n', '\n05\n')],
    ['signed size', good.replace('\n5\n', '\n+5\n')],
    ['negative size', good.replace('\n5\n', '\n-5\n')],
    ['hex size', good.replace('\n5\n', '\n0x5\n')],
    ['size with space', good.replace('\n5\n', '\n5 \n')],
    ['size beyond 2^53', good.replace('\n5\n', '\n9007199254740993\n')],
    ['root of 31 bytes', good.replace(ROOT.toString('base64'), ROOT.subarray(1).toString('base64'))],
    ['root of 33 bytes', good.replace(ROOT.toString('base64'), Buffer.concat([ROOT, Buffer.of(0)]).toString('base64'))],
    ['root base64url', `${HDX_AUDIT_ORIGIN}\n5\n${Buffer.alloc(32, 0xfb).toString('base64url')}\n`],
    ['root unpadded', good.replace('q2I=', 'q2I')],
    ['root with junk', good.replace('q2I=', 'q2I=!')],
    ['empty extension line', `${good}\next\n`],
    ['trailing blank line', `${good}\n`],
    ['CRLF', good.replaceAll('\n', '\r\n')],
    ['control character in origin', good.replace('hdx.local', 'hdx\u0007local')],
  ];
  for (const [name, text] of malformed) {
    it(`rejects: ${name}`, () => expect(() => parseCheckpoint(text)).toThrow(CheckpointMalformedError));
  }

  it('refuses to format invalid fields (TypeError)', () => {
    expect(() => formatCheckpoint({ origin: '', size: 1, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', size: -1, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', size: 1.5, rootHash: ROOT })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', size: 1, rootHash: ROOT.subarray(1) })).toThrow(TypeError);
    expect(() => formatCheckpoint({ origin: 'a', size: 1, rootHash: ROOT, extensions: [''] })).toThrow(TypeError);
  });
});

describe('signed checkpoints', () => {
  const cp = { origin: HDX_AUDIT_ORIGIN, size: 42, rootHash: ROOT };

  it('sign → verify round trip with the default origin', () => {
    const note = signCheckpoint(cp, signer);
    expect(note.startsWith(`${HDX_AUDIT_ORIGIN}\n42\n${ROOT.toString('base64')}\n\n\u2014 ${HDX_AUDIT_ORIGIN} `)).toBe(true);
    const got = verifyCheckpoint(note, verifier);
    expect(got.size).toBe(42);
    expect(got.rootHash.equals(ROOT)).toBe(true);
    expect(verifyCheckpoint(Buffer.from(note), [verifier], HDX_AUDIT_ORIGIN).size).toBe(42);
  });

  it('rejects another origin, even when validly signed', () => {
    const note = signCheckpoint({ ...cp, origin: 'evil.example/log' }, signer);
    expect(() => verifyCheckpoint(note, verifier)).toThrow(OriginMismatchError);
    expect(verifyCheckpoint(note, verifier, 'evil.example/log').origin).toBe('evil.example/log');
  });

  it('rejects a changed size or root, and an unknown key', () => {
    const note = signCheckpoint(cp, signer);
    expect(() => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), verifier)).toThrow(NoteSignatureError);
    const other = Buffer.from(ROOT);
    other[0]! ^= 1;
    expect(() => verifyCheckpoint(note.replace(ROOT.toString('base64'), other.toString('base64')), verifier)).toThrow(
      NoteSignatureError,
    );
    expect(() => verifyCheckpoint(note, parseVerifierKey(generateNoteKey(HDX_AUDIT_ORIGIN).verifierKey))).toThrow(
      NoteUnverifiedError,
    );
  });

  it('verifies the signature before looking at the body', () => {
    const body = `${HDX_AUDIT_ORIGIN}\n042\n${ROOT.toString('base64')}\n`;
    // Validly signed but not a checkpoint: malformed.
    expect(() => verifyCheckpoint(signNote(body, signer), verifier)).toThrow(CheckpointMalformedError);
    // Malformed body under someone else's signature: never parsed, the signature fails first.
    const foreign = parseSignerKey(generateNoteKey(HDX_AUDIT_ORIGIN).signerKey);
    expect(() => verifyCheckpoint(signNote(body, foreign), verifier)).toThrow(NoteUnverifiedError);
  });

  it('errors carry a stable code and a safe message', () => {
    try {
      parseCheckpoint('x\n01\nAAAA\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TransparencyError);
      expect((err as TransparencyError).code).toBe('ERR_CHECKPOINT_MALFORMED');
      expect(CheckpointMalformedError.code).toBe('ERR_CHECKPOINT_MALFORMED');
      expect((err as Error).name).toBe('CheckpointMalformedError');
      expect((err as Error).message).not.toContain('01');
    }
  });
});
