/**
 * The regulator's view of one logged audit event, parsed defensively from its canonical JSON. The
 * officer's tool does not import the gateway's types: it reads what the log says and refuses what it
 * cannot read, keeping the parse error as `cause`.
 */
import { isPlainObject } from '../keys/json-guard.js';
import { EventMalformed } from './errors.js';

export { EventMalformed };

export type DetailValue = string | number | boolean | string[] | Record<string, number>;

export interface LoggedEvent {
  v: 1;
  seq: number;
  /** RFC 3339. */
  at: string;
  /** base64 leaf hash of the previous event; "" for the first. */
  prev: string;
  action: string;
  actor: string;
  outcome: string;
  consent?: string;
  submission?: string;
  transfer?: string;
  decision?: string;
  /** The keyed index hash of the patient (never the ID). */
  patient?: string;
  parties: string[];
  details: Record<string, DetailValue>;
}

const OPTIONAL_IDS = ['consent', 'submission', 'transfer', 'decision', 'patient'] as const;

/** Parses the text of an event. Throws `EventMalformed` naming the field, never its value. */
export function parseLoggedEvent(text: string): LoggedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new EventMalformed('event is not JSON', { cause });
  }
  return loggedEventFrom(value);
}

/** Checks an already parsed event. Throws `EventMalformed`. */
export function loggedEventFrom(value: unknown): LoggedEvent {
  if (!isPlainObject(value)) throw new EventMalformed('event is not an object');
  const e = value;
  if (e['v'] !== 1) throw new EventMalformed('event version is not 1');
  const seq = e['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new EventMalformed('event seq is invalid');
  const text = (field: string, allowEmpty = false): string => {
    const v = e[field];
    if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > 1024) {
      throw new EventMalformed(`event ${field} is invalid`);
    }
    return v;
  };
  const event: LoggedEvent = {
    v: 1,
    seq,
    at: text('at'),
    prev: text('prev', true),
    action: text('action'),
    actor: text('actor'),
    outcome: text('outcome'),
    parties: [],
    details: {},
  };
  for (const field of OPTIONAL_IDS) if (e[field] !== undefined) event[field] = text(field);
  const parties = e['parties'];
  if (parties !== undefined) {
    if (!Array.isArray(parties) || parties.length > 1000 || !parties.every((p) => typeof p === 'string')) {
      throw new EventMalformed('event parties are invalid');
    }
    event.parties = parties as string[];
  }
  const details = e['details'];
  if (details !== undefined) {
    if (!isPlainObject(details)) throw new EventMalformed('event details are invalid');
    for (const [key, v] of Object.entries(details)) {
      if (!isDetailValue(v)) throw new EventMalformed('event details hold an unexpected value');
      event.details[key] = v;
    }
  }
  return event;
}

function isDetailValue(v: unknown): v is DetailValue {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string');
  return isPlainObject(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** A detail as text: strings as they are, anything else as JSON. */
export function detailText(value: DetailValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
