// The store's SQLite schema. `user_version` carries the schema version so that an older `sei`
// refuses a store written by a newer one instead of misreading it.
export const STORE_FORMAT = 'split-et-impera-store';
export const SCHEMA_VERSION = 3;

/** Steps from one schema version to the next, applied in order by a writer opening an older store. */
export const MIGRATIONS: Record<number, string> = {
  // 2: the lock names the worker processes of its run, so a takeover waits until they are gone.
  2: 'ALTER TABLE lock ADD COLUMN workers TEXT;',
  // 3: an attempt records the CPU time it took, which a busy machine disturbs less than its wall time.
  3: 'ALTER TABLE attempts ADD COLUMN cpu_ms INTEGER;',
};

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  pipeline    TEXT NOT NULL,
  file        TEXT NOT NULL,
  plan_hash   TEXT NOT NULL,
  state       TEXT NOT NULL,          -- running | done | failed | interrupted
  pid         INTEGER NOT NULL,
  host        TEXT NOT NULL,
  jobs        INTEGER NOT NULL,
  total       INTEGER NOT NULL,
  cached      INTEGER NOT NULL DEFAULT 0,
  done        INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  started_at  TEXT NOT NULL,
  ended_at    TEXT
);
-- One row per cache key: the same cell id gets a new row when its code or inputs change.
CREATE TABLE IF NOT EXISTS cells (
  key         TEXT PRIMARY KEY,
  id          TEXT NOT NULL,
  pipeline    TEXT NOT NULL,
  instance    TEXT NOT NULL,
  stage       TEXT NOT NULL,
  slot        TEXT NOT NULL,
  coords      TEXT NOT NULL,
  params      TEXT NOT NULL,
  inputs      TEXT NOT NULL,
  key_parts   TEXT NOT NULL,
  state       TEXT NOT NULL,          -- pending | running | done | failed | interrupted
  dir         TEXT,                   -- relative to the store folder
  manifest    TEXT,
  metrics     TEXT,
  provenance  TEXT,
  error       TEXT,
  reasons     TEXT,                   -- why it last had to run (NotCachedReason[])
  log_path    TEXT,                   -- relative to the store folder
  run_id      TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  started_at  TEXT,
  ended_at    TEXT,
  duration_ms INTEGER,
  updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cells_by_id ON cells(id);
CREATE INDEX IF NOT EXISTS cells_by_state ON cells(state);
CREATE INDEX IF NOT EXISTS cells_by_pipeline ON cells(pipeline, instance);
CREATE TABLE IF NOT EXISTS attempts (
  key         TEXT NOT NULL,
  n           INTEGER NOT NULL,
  run_id      TEXT NOT NULL,
  state       TEXT NOT NULL,          -- running | done | failed | interrupted
  failure     TEXT,                   -- error | crash | timeout | interrupted
  error       TEXT,
  log_path    TEXT,
  started_at  TEXT NOT NULL,
  ended_at    TEXT,
  cpu_ms      INTEGER,                -- CPU time of the process that ran it (user + system); NULL when unknown
  PRIMARY KEY (key, n)
);
-- Per (pipeline, slot): the key parts last planned there, so a later plan can say what changed.
CREATE TABLE IF NOT EXISTS slots (
  pipeline    TEXT NOT NULL,
  slot        TEXT NOT NULL,
  instance    TEXT NOT NULL,
  cell_id     TEXT NOT NULL,
  key         TEXT NOT NULL,
  key_parts   TEXT NOT NULL,
  active      INTEGER NOT NULL,       -- 1 when the slot is part of the pipeline's latest run
  position    INTEGER NOT NULL,       -- order in that run's plan
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (pipeline, slot)
);
CREATE TABLE IF NOT EXISTS lock (
  one          INTEGER PRIMARY KEY CHECK (one = 1),
  run_id       TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  pipeline     TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  workers      TEXT                   -- JSON list of the pids of the run's busy worker processes
);
`;
