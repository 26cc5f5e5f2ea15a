/** Forward-only schema migrations of the state database; `PRAGMA user_version` is the applied count. */

export const migrations: readonly string[] = [
  // 1: the initial schema
  `
  CREATE TABLE checkpoints (
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, stream)
  );
  CREATE TABLE ledger (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    sink TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    event_time TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT,
    channel TEXT,
    failure_type TEXT,
    failure_category TEXT,
    failure_code TEXT,
    exclusion_code TEXT,
    retry_count INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX ledger_event_time ON ledger (event_time);
  CREATE TABLE history (
    source TEXT NOT NULL,
    source_event_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_time TEXT NOT NULL,
    counts_as_retry INTEGER NOT NULL,
    attempt INTEGER,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (source, source_event_id)
  );
  CREATE INDEX history_message ON history (source, message_id, channel, provider_time);
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('decode', 'map', 'validate', 'ingest')),
    stream TEXT,
    position TEXT,
    event_id TEXT,
    raw TEXT NOT NULL,
    reason TEXT NOT NULL,
    errors TEXT,
    created_at TEXT NOT NULL,
    replayed_at TEXT,
    replay_run_id INTEGER
  );
  CREATE INDEX dead_letters_open ON dead_letters (replayed_at, stage, source);
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    source TEXT,
    sink TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    exit_code INTEGER,
    counters TEXT,
    error TEXT
  );
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  `,
  // 2: operations — messageFailure.reason per sent event (top failure reasons in `report`), dead-letter age index
  // (retention pruning by `dlq prune` / `schedule`)
  `
  ALTER TABLE ledger ADD COLUMN failure_reason TEXT;
  CREATE INDEX dead_letters_created ON dead_letters (created_at);
  `,
  // 3: keys in time order. Before, each event made random-order writes in four B-trees (ledger by _id, its time index,
  // history by event id and by message): the largest cost of a sync, as every commit rewrote ~1,000 scattered pages.
  // Now the ledger is keyed (event time, _id) — the look-up knows both, and time-range queries use the key — and the
  // history (source, provider time, event id), so both grow at their end as a feed is read in time order. Only the
  // outcomes that count toward retryCount (delays, soft failures: a few percent) go into the by-message index.
  // A repeated report of an event still lands on the same keys.
  `
  CREATE TABLE history_v3 (
    source TEXT NOT NULL,
    provider_time TEXT NOT NULL,
    source_event_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    counts_as_retry INTEGER NOT NULL,
    attempt INTEGER,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (source, provider_time, source_event_id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO history_v3
    SELECT source, provider_time, source_event_id, message_id, channel, status, counts_as_retry, attempt, recorded_at
    FROM history;
  DROP TABLE history;
  ALTER TABLE history_v3 RENAME TO history;
  CREATE INDEX history_retries ON history (source, message_id, channel, provider_time) WHERE counts_as_retry = 1;

  CREATE TABLE ledger_v3 (
    event_time TEXT NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    sink TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT,
    channel TEXT,
    failure_type TEXT,
    failure_category TEXT,
    failure_code TEXT,
    failure_reason TEXT,
    exclusion_code TEXT,
    retry_count INTEGER,
    PRIMARY KEY (event_time, id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO ledger_v3
    SELECT event_time, id, source, sink, run_id, sent_at, event_type, status, channel, failure_type, failure_category,
      failure_code, failure_reason, exclusion_code, retry_count
    FROM ledger;
  DROP TABLE ledger;
  ALTER TABLE ledger_v3 RENAME TO ledger;
  `,
];
