/**
 * The PostgreSQL schema, as numbered migrations applied in order (hdx_migrations records which ran). The
 * same tables as SQLite's (../schema.ts), in PostgreSQL's types: BIGINT for ms times, seqs and cursors,
 * BYTEA for hashes and keys, TEXT COLLATE "C" where ids are ordered or paged, so that order is bytewise as
 * in SQLite whatever the database's locale. Two one-row heads serialise what must be ordered across
 * replicas: audit_head (the log's next seq and last leaf, and the decisions' next cursor; locked by each
 * append to COMMIT) and tree_head (the integrated size; locked by the integrating leader).
 */
export interface Migration {
  version: number;
  sql: string;
}

const APPEND_ONLY = (table: string) => `
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION hdx_append_only();`;

/** Expression on the verified bytes (event_json), as the audit queries and their indexes spell it. */
export const eventField = (name: string) => `((event_json::jsonb ->> '${name}') COLLATE "C")`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE FUNCTION hdx_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;

CREATE TABLE consents (
  consent_id      TEXT COLLATE "C" PRIMARY KEY,
  patient_key     BYTEA NOT NULL,
  insurer_id      TEXT COLLATE "C" NOT NULL,
  policy_sealed   BYTEA NOT NULL,
  purpose         TEXT NOT NULL,
  categories      TEXT NOT NULL,
  any_hospital    INTEGER NOT NULL,
  hospitals       TEXT NOT NULL,
  valid_from      BIGINT NOT NULL,
  valid_until     BIGINT NOT NULL,
  capture         TEXT NOT NULL,
  terms_digest    TEXT NOT NULL,
  recorded_by     TEXT COLLATE "C" NOT NULL,
  recorded_at     BIGINT NOT NULL,
  revoked_at      BIGINT,
  revoked_by      TEXT,
  -- Insertion order, for ties within a millisecond (SQLite's rowid).
  recorded_no     BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX consents_by_patient ON consents(patient_key);
CREATE INDEX consents_by_insurer ON consents(insurer_id, recorded_at);
CREATE INDEX consents_by_recorder ON consents(recorded_by, recorded_at);

CREATE TABLE idempotency (
  party_id        TEXT NOT NULL,
  method          TEXT NOT NULL,
  idem_key        TEXT NOT NULL,
  request_digest  TEXT NOT NULL,
  response        TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (party_id, method, idem_key)
);

CREATE TABLE submissions (
  submission_id   TEXT COLLATE "C" PRIMARY KEY,
  hospital_id     TEXT NOT NULL,
  bundle_digest   TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  encounter_class TEXT NOT NULL,
  service_start   BIGINT NOT NULL,
  service_end     BIGINT NOT NULL,
  signature       TEXT,
  accepted_at     BIGINT NOT NULL
);

CREATE TABLE transfers (
  transfer_id       TEXT COLLATE "C" PRIMARY KEY,
  submission_id     TEXT COLLATE "C" NOT NULL REFERENCES submissions(submission_id),
  insurer_id        TEXT COLLATE "C" NOT NULL,
  consent_id        TEXT COLLATE "C" NOT NULL REFERENCES consents(consent_id),
  pseudonym         TEXT NOT NULL,
  patient_ref       TEXT NOT NULL,
  envelope          TEXT NOT NULL,
  envelope_digest   TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('pending','delivered','acknowledged','withheld','decided')),
  created_at        BIGINT NOT NULL,
  lease_expires_at  BIGINT,
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  delivered_at      BIGINT,
  acknowledged_at   BIGINT,
  receipt           TEXT,
  withheld_at       BIGINT,
  decided_at        BIGINT,
  purge_after       BIGINT,
  purged_at         BIGINT
);
-- The JWE apart from the often-updated state, as in SQLite (a state UPDATE then never copies it).
CREATE TABLE transfer_payloads (
  transfer_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES transfers(transfer_id),
  payload           TEXT NOT NULL
);
-- The queue in order (leaseReady walks it and stops at the limit); it holds only transfers in flight.
CREATE INDEX transfers_ready ON transfers(insurer_id, created_at, transfer_id) WHERE state IN ('pending', 'delivered');
CREATE INDEX transfers_leased ON transfers(insurer_id, lease_expires_at) WHERE state = 'delivered';
CREATE INDEX transfers_by_consent_id ON transfers(consent_id);
CREATE INDEX transfers_by_submission ON transfers(submission_id);
CREATE INDEX transfers_by_created ON transfers(created_at, insurer_id);
CREATE INDEX transfers_purge ON transfers(purge_after) WHERE purge_after IS NOT NULL AND purged_at IS NULL;

-- The append-only audit log; seq is the Merkle leaf index. Filters read event_json (the verified bytes)
-- through expression indexes; the copy columns are written for operators, never read by queries.
CREATE TABLE audit_events (
  seq          BIGINT PRIMARY KEY,
  at           BIGINT NOT NULL,
  action       TEXT NOT NULL,
  actor        TEXT NOT NULL,
  consent_id   TEXT,
  transfer_id  TEXT,
  patient_ref  TEXT,
  parties      TEXT NOT NULL,
  event_json   TEXT NOT NULL,
  leaf_hash    BYTEA NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX audit_at ON audit_events(${eventField('at')});
CREATE INDEX audit_action ON audit_events(${eventField('action')}, seq);
CREATE INDEX audit_actor ON audit_events(${eventField('actor')}, seq);
CREATE INDEX audit_parties ON audit_events USING GIN ((event_json::jsonb -> 'parties'));
CREATE INDEX audit_consent ON audit_events(${eventField('consent')}) WHERE (event_json::jsonb ->> 'consent') IS NOT NULL;
CREATE INDEX audit_transfer ON audit_events(${eventField('transfer')}) WHERE (event_json::jsonb ->> 'transfer') IS NOT NULL;
CREATE INDEX audit_patient ON audit_events(${eventField('patient')}) WHERE (event_json::jsonb ->> 'patient') IS NOT NULL;
${APPEND_ONLY('audit_events')}

-- The log's head: next seq, last leaf hash, and the decisions' next cursor (see the header).
CREATE TABLE audit_head (
  id           BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  next_seq     BIGINT NOT NULL,
  prev         BYTEA,
  next_cursor  BIGINT NOT NULL
);
INSERT INTO audit_head (next_seq, prev, next_cursor) VALUES (0, NULL, 1);

-- The RFC 9162 tree: the hash of every complete subtree, (level, idx) covering leaves [idx·2^level, (idx+1)·2^level).
CREATE TABLE merkle_nodes (
  level  SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx    BIGINT NOT NULL CHECK (idx >= 0),
  hash   BYTEA NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
${APPEND_ONLY('merkle_nodes')}
CREATE TABLE tree_head (
  id    BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  size  BIGINT NOT NULL
);
INSERT INTO tree_head (size) VALUES (0);

-- Signed checkpoints; tree_size is the key, so two of one size can never both exist.
CREATE TABLE checkpoints (
  tree_size    BIGINT PRIMARY KEY,
  root_hash    BYTEA NOT NULL,
  note         TEXT NOT NULL,
  signed_at    BIGINT NOT NULL
);
${APPEND_ONLY('checkpoints')}

CREATE TABLE decisions (
  cursor          BIGINT PRIMARY KEY,       -- from audit_head.next_cursor, under its lock (see the header)
  decision_id     TEXT NOT NULL,
  transfer_id     TEXT COLLATE "C" NOT NULL REFERENCES transfers(transfer_id),
  submission_id   TEXT NOT NULL,
  hospital_id     TEXT NOT NULL,
  insurer_id      TEXT NOT NULL,
  revision_of     TEXT,
  outcome         TEXT NOT NULL,
  decision        TEXT NOT NULL,
  decision_digest TEXT NOT NULL,
  recorded_at     BIGINT NOT NULL,
  acknowledged_at BIGINT,
  purge_after     BIGINT,
  purged_at       BIGINT,
  UNIQUE (insurer_id, decision_id)
);
CREATE INDEX decisions_by_hospital ON decisions(hospital_id, cursor);
CREATE INDEX decisions_by_transfer ON decisions(transfer_id);
CREATE INDEX decisions_purge ON decisions(purge_after) WHERE purge_after IS NOT NULL AND purged_at IS NULL;
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
