/**
 * The gateway's SQLite schema. It holds ids, keyed hashes, digests, sealed ciphertext and states —
 * never a plaintext record or a raw identifier. Times are milliseconds since the epoch.
 */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS consents (
  consent_id      TEXT PRIMARY KEY,
  patient_key     BLOB NOT NULL,            -- HMAC(index key, normalised resident ID)
  insurer_id      TEXT NOT NULL,
  policy_sealed   BLOB NOT NULL,            -- policy number, AES-256-GCM under an at-rest key
  purpose         TEXT NOT NULL,
  categories      TEXT NOT NULL,            -- JSON array
  any_hospital    INTEGER NOT NULL,
  hospitals       TEXT NOT NULL,            -- JSON array of party ids
  valid_from      INTEGER NOT NULL,
  valid_until     INTEGER NOT NULL,
  capture         TEXT NOT NULL,            -- JSON: channel, capturedAt, noticeVersion, formDigest
  terms_digest    TEXT NOT NULL,
  recorded_by     TEXT NOT NULL,
  recorded_at     INTEGER NOT NULL,
  revoked_at      INTEGER,
  revoked_by      TEXT
);
CREATE INDEX IF NOT EXISTS consents_by_patient ON consents(patient_key);
CREATE INDEX IF NOT EXISTS consents_by_insurer ON consents(insurer_id, recorded_at);
CREATE INDEX IF NOT EXISTS consents_by_recorder ON consents(recorded_by, recorded_at);

-- One row per (party, method, key): a retry returns the first answer, a reuse with other content is refused.
CREATE TABLE IF NOT EXISTS idempotency (
  party_id        TEXT NOT NULL,
  method          TEXT NOT NULL,
  idem_key        TEXT NOT NULL,
  request_digest  TEXT NOT NULL,
  response        TEXT NOT NULL,            -- JSON of the domain result (ids and digests only)
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (party_id, method, idem_key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS submissions (
  submission_id   TEXT PRIMARY KEY,
  hospital_id     TEXT NOT NULL,
  bundle_digest   TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  encounter_class TEXT NOT NULL,            -- IMP | AMB | other v3 ActCode
  service_start   INTEGER NOT NULL,
  service_end     INTEGER NOT NULL,
  signature       TEXT,                     -- the hospital's JWS over the bundle digest
  accepted_at     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS transfers (
  transfer_id       TEXT PRIMARY KEY,
  submission_id     TEXT NOT NULL REFERENCES submissions(submission_id),
  insurer_id        TEXT NOT NULL,
  consent_id        TEXT NOT NULL REFERENCES consents(consent_id),
  pseudonym         TEXT NOT NULL,
  patient_ref       TEXT NOT NULL,          -- the audit log's patient reference (keyed index hash), for its events
  envelope          TEXT NOT NULL,          -- the gateway's JWS
  envelope_digest   TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('pending','delivered','acknowledged','withheld','decided')),
  created_at        INTEGER NOT NULL,
  lease_expires_at  INTEGER,
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  delivered_at      INTEGER,
  acknowledged_at   INTEGER,
  receipt           TEXT,
  withheld_at       INTEGER,
  decided_at        INTEGER,
  purge_after       INTEGER,
  purged_at         INTEGER
);
-- The JWE (~30 KB) lives apart from the transfer's state: SQLite rewrites a whole row, overflow pages
-- included, on every UPDATE, and a transfer's state changes three or four times (lease, acknowledge,
-- decide). Written once, deleted when purged after acknowledgement + retention or when withheld.
CREATE TABLE IF NOT EXISTS transfer_payloads (
  transfer_id       TEXT PRIMARY KEY REFERENCES transfers(transfer_id),
  payload           TEXT NOT NULL
);
-- The queue indexes hold only transfers in flight (partial), so a transfer leaves them when delivered or
-- acknowledged and they stay as small as the queue, not the history. Leases in flight, by expiry:
CREATE INDEX IF NOT EXISTS transfers_leased ON transfers(insurer_id, lease_expires_at) WHERE state = 'delivered';
-- The delivery queue in order: pending transfers per insurer, oldest first (no sort per pull).
CREATE INDEX IF NOT EXISTS transfers_pending ON transfers(insurer_id, created_at, transfer_id) WHERE state = 'pending';
-- Without state: a transfer's state changes three or four times, its consent never.
CREATE INDEX IF NOT EXISTS transfers_by_consent_id ON transfers(consent_id);
CREATE INDEX IF NOT EXISTS transfers_by_submission ON transfers(submission_id);
-- Service-level queries select transfers by submit time (created_at is the submission's accepted_at).
CREATE INDEX IF NOT EXISTS transfers_by_created ON transfers(created_at, insurer_id);
CREATE INDEX IF NOT EXISTS transfers_purge ON transfers(purge_after) WHERE purge_after IS NOT NULL AND purged_at IS NULL;

-- The append-only audit log: seq is the Merkle leaf index. Search columns are copies of what the
-- canonical event_json already says, for indexed queries; the verifier reads only event_json.
CREATE TABLE IF NOT EXISTS audit_events (
  seq          INTEGER PRIMARY KEY,
  at           INTEGER NOT NULL,
  action       TEXT NOT NULL,
  actor        TEXT NOT NULL,
  consent_id   TEXT,
  transfer_id  TEXT,
  patient_ref  TEXT,
  parties      TEXT NOT NULL,              -- space-separated party ids involved, for the party filter
  event_json   TEXT NOT NULL,
  leaf_hash    BLOB NOT NULL
);
-- Search indexes are derived by SQLite from event_json itself — the bytes the Merkle leaf hashes, which the
-- officer verifies — so no separate copy exists that an operator could edit to hide an event from a
-- filtered query (schema 4; the copy columns above are still written but no longer read).
CREATE INDEX IF NOT EXISTS audit_at ON audit_events(json_extract(event_json, '$.at'));
CREATE INDEX IF NOT EXISTS audit_action ON audit_events(json_extract(event_json, '$.action'), seq);
CREATE INDEX IF NOT EXISTS audit_consent ON audit_events(json_extract(event_json, '$.consent'))
  WHERE json_extract(event_json, '$.consent') IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_transfer ON audit_events(json_extract(event_json, '$.transfer'))
  WHERE json_extract(event_json, '$.transfer') IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_patient ON audit_events(json_extract(event_json, '$.patient'))
  WHERE json_extract(event_json, '$.patient') IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- Signed checkpoints, kept so that the gateway never signs two inconsistent ones.
CREATE TABLE IF NOT EXISTS checkpoints (
  tree_size    INTEGER PRIMARY KEY,
  root_hash    BLOB NOT NULL,
  note         TEXT NOT NULL,
  signed_at    INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

CREATE TABLE IF NOT EXISTS decisions (
  cursor          INTEGER PRIMARY KEY AUTOINCREMENT,
  decision_id     TEXT NOT NULL,            -- chosen by the insurer: unique per insurer, not globally
  transfer_id     TEXT NOT NULL REFERENCES transfers(transfer_id),
  submission_id   TEXT NOT NULL,
  hospital_id     TEXT NOT NULL,
  insurer_id      TEXT NOT NULL,
  revision_of     TEXT,
  outcome         TEXT NOT NULL,
  decision        TEXT NOT NULL,            -- the insurer's JWS, forwarded unchanged
  decision_digest TEXT NOT NULL,
  recorded_at     INTEGER NOT NULL,
  -- The hospital acknowledged it (AcknowledgeDecisions); the token is dropped after the retention period
  -- (decision set to '' and purged_at set; the digest, outcome and times stay).
  acknowledged_at INTEGER,
  purge_after     INTEGER,
  purged_at       INTEGER,
  UNIQUE (insurer_id, decision_id)
);
CREATE INDEX IF NOT EXISTS decisions_by_hospital ON decisions(hospital_id, cursor);
CREATE INDEX IF NOT EXISTS decisions_by_transfer ON decisions(transfer_id);
CREATE INDEX IF NOT EXISTS decisions_purge ON decisions(purge_after) WHERE purge_after IS NOT NULL AND purged_at IS NULL;
`;
