-- The flow store's first schema. Migrations are forward-only: a later change
-- is a new file, never an edit of this one.
--
-- Times are INTEGER microseconds since the Unix epoch in UTC (the precision
-- PostgreSQL keeps), NULL for a zero time.go value. JSON is TEXT, NULL when
-- empty.

-- +goose Up
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY,
    flow_id      TEXT    NOT NULL,
    flow_version INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    applicant    TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    form         TEXT,
    state        TEXT,
    version      INTEGER NOT NULL,
    created_at   INTEGER,
    updated_at   INTEGER
) STRICT;
-- Instances are listed newest first, optionally by flow, applicant or status.
CREATE INDEX instances_created ON instances (created_at DESC, id DESC);
CREATE INDEX instances_flow ON instances (flow_id, created_at DESC);
CREATE INDEX instances_applicant ON instances (applicant, created_at DESC);
CREATE INDEX instances_status ON instances (status, created_at DESC);

CREATE TABLE tasks (
    id          TEXT    PRIMARY KEY,
    instance_id TEXT    NOT NULL REFERENCES instances (id),
    step_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    assignee    TEXT    NOT NULL,
    owner_id    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    result      TEXT,
    decided_by  TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    due_at      INTEGER,
    created_at  INTEGER,
    decided_at  INTEGER
) STRICT;
-- A user's to-do list (assignee + open) is the hottest query; the engine
-- also reads an instance's tasks and scans tasks by status.
CREATE INDEX tasks_assignee_status ON tasks (assignee, status, created_at, id);
CREATE INDEX tasks_instance ON tasks (instance_id, created_at, id);
CREATE INDEX tasks_status ON tasks (status, created_at, id);

-- seq is AUTOINCREMENT so a number is never reused, even if old rows are
-- pruned: it orders an instance's trail.
CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT    NOT NULL REFERENCES instances (id),
    task_id      TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    on_behalf_of TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    detail       TEXT,
    at           INTEGER
) STRICT;
CREATE INDEX audit_instance ON audit (instance_id, seq);

-- key is the message's idempotency key: unique, so a change that would
-- commit the same message twice fails whole.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL UNIQUE,
    instance_id TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    payload     TEXT,
    created_at  INTEGER,
    sent_at     INTEGER
) STRICT;
-- The relay and the backlog metric read unsent messages by seq; a partial
-- index stays as small as the backlog.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

CREATE TABLE timers (
    id          TEXT    PRIMARY KEY,
    instance_id TEXT    NOT NULL,
    task_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    payload     TEXT,
    holder      TEXT,
    lease_until INTEGER
) STRICT;
CREATE INDEX timers_due ON timers (due_at, id);

CREATE TABLE idempotency (
    key        TEXT PRIMARY KEY,
    result     TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE definitions (
    flow_id    TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    source     BLOB    NOT NULL,
    created_at INTEGER,
    PRIMARY KEY (flow_id, version)
) STRICT;

-- The org directory. roles and platform_ids are kept on the user as JSON for
-- reading it in one row, and in the two lookup tables below for finding it;
-- their primary keys reject a platform id mapped to two users.
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    department   TEXT NOT NULL,
    manager      TEXT NOT NULL,
    roles        TEXT NOT NULL,
    platform_ids TEXT NOT NULL
) STRICT;
CREATE TABLE user_roles (
    role    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (role, user_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE user_platform_ids (
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE departments (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT NOT NULL,
    head   TEXT NOT NULL
) STRICT;

CREATE TABLE leases (
    name   TEXT    PRIMARY KEY,
    holder TEXT    NOT NULL,
    until  INTEGER NOT NULL
) STRICT;
