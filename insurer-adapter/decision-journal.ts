/**
 * The insurer's decision journal, `decisions.jsonl` in the inbox folder: one JSON line per step, appended.
 *
 *   {"signed":{"transferId","decisionId","outcome","jws"}}   fdatasynced before the token is sent, so a
 *                                                             crash resends the same token (a replay)
 *   {"sent":{"transferId","decisionId","outcome","recordedAt","replayed"}}   the gateway's answer; not
 *                                                             synced: if lost, the kept token is resent
 *
 * It replaces a token file and a marker file per transfer: two files created (each a new inode) and a
 * folder fsync per decision, at direct-settlement rates millions of files a day. A line torn by a crash is
 * ignored. Inboxes written by earlier versions (`<transfer>.decision.jws` / `.decision.json`) still read.
 */
import { closeSync, existsSync, fdatasync, fstatSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionOutcome } from '../keys/formats/decision.js';
import { callback, openFile } from './durable-files.js';

const FILE = 'decisions.jsonl';
const LEGACY_SIGNED = '.decision.jws';
const LEGACY_SENT = '.decision.json';

export interface SignedEntry {
  transferId: string;
  decisionId: string;
  outcome: DecisionOutcome;
  jws: string;
}

export interface SentEntry {
  transferId: string;
  decisionId: string;
  outcome: DecisionOutcome;
  recordedAt: Date | undefined;
  replayed: boolean;
}

export interface JournalState {
  /** The last token signed per transfer. */
  signed: Map<string, SignedEntry>;
  /** Transfers whose decision the gateway has answered. */
  sent: Set<string>;
}

interface Batch {
  text: string;
  sync: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}
/** Lines waiting per journal file while an earlier write to it runs. */
const waiting = new Map<string, Batch>();
const writing = new Set<string>();

/**
 * Appends `line`, resolving once it is written (and fdatasynced if `sync`). Lines appended while a write
 * is under way go together in the next one (group commit: one open, write and fdatasync for the lot, not
 * two opens and a sync per decision), in the order they were appended.
 */
function append(inbox: string, line: string, sync: boolean): Promise<void> {
  const path = join(inbox, FILE);
  return new Promise((resolve, reject) => {
    let batch = waiting.get(path);
    if (!batch) waiting.set(path, (batch = { text: '', sync: false, waiters: [] }));
    batch.text += line;
    batch.sync ||= sync;
    batch.waiters.push({ resolve, reject });
    if (!writing.has(path)) void drain(path);
  });
}

async function drain(path: string): Promise<void> {
  writing.add(path);
  try {
    for (let batch = waiting.get(path); batch; batch = waiting.get(path)) {
      waiting.delete(path);
      try {
        await appendText(path, batch.text, batch.sync);
        for (const w of batch.waiters) w.resolve();
      } catch (error) {
        for (const w of batch.waiters) w.reject(error);
      }
    }
  } finally {
    writing.delete(path);
  }
}

/** Journal files this process has appended to: their last line is known to be whole. */
const started = new Set<string>();

/**
 * No FileHandle (see durable-files.ts): open and fdatasync are single libuv requests on a raw descriptor;
 * the write into the page cache and the close are synchronous.
 */
async function appendText(path: string, text: string, sync: boolean): Promise<void> {
  const fd = await openFile(path, 'a+', 0o600);
  try {
    // A crash may have torn the last line: start on a line of our own, or the first new line would be
    // glued to the torn one and lost with it.
    if (!started.has(path)) {
      const { size } = fstatSync(fd);
      const last = Buffer.alloc(1);
      if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) text = `\n${text}`;
      started.add(path);
    }
    writeFileSync(fd, text);
    if (sync) await callback(fdatasync, fd);
  } finally {
    closeSync(fd);
  }
}

/** Keeps a signed token durably before it is sent. */
export function journalSigned(inbox: string, entry: SignedEntry): Promise<void> {
  return append(inbox, `${JSON.stringify({ signed: entry })}\n`, true);
}

/** Notes the gateway's answer (not synced: losing it only resends the kept token). */
export function journalSent(inbox: string, entry: SentEntry): Promise<void> {
  return append(inbox, `${JSON.stringify({ sent: entry })}\n`, false);
}

/** What the journal (and any legacy files) say about the inbox's decisions. */
export function readJournal(inbox: string): JournalState {
  const state: JournalState = { signed: new Map(), sent: new Set() };
  const path = join(inbox, FILE);
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      let entry: { signed?: SignedEntry; sent?: SentEntry };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // empty, or torn by a crash
      }
      if (typeof entry.signed?.transferId === 'string' && typeof entry.signed.jws === 'string') state.signed.set(entry.signed.transferId, entry.signed);
      if (typeof entry.sent?.transferId === 'string') state.sent.add(entry.sent.transferId);
    }
  }
  for (const name of existsSync(inbox) ? readdirSync(inbox) : []) {
    if (name.endsWith(LEGACY_SENT)) state.sent.add(name.slice(0, -LEGACY_SENT.length));
    if (name.endsWith(LEGACY_SIGNED)) {
      const transferId = name.slice(0, -LEGACY_SIGNED.length);
      if (state.signed.has(transferId)) continue;
      const jws = readFileSync(join(inbox, name), 'utf8');
      const claims = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti: string; hdx: { outcome: DecisionOutcome } };
      state.signed.set(transferId, { transferId, decisionId: claims.jti, outcome: claims.hdx.outcome, jws });
    }
  }
  return state;
}
