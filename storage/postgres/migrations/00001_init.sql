-- The flow store's schema. Migrations are forward-only: a later change gets
-- a new file, never an edit of this one. Opaque JSON (forms, states,
-- payloads, answers) is kept as json, not jsonb, so the bytes the engine
-- wrote come back unchanged and inserts skip jsonb's re-encoding. No foreign
-- keys: outbox messages, timers and audit rows may belong to no instance
-- (digests, alert groups), and the engine is the one writer.

-- +goose Up

-- cardflow_raise aborts the statement (and with it the whole implicit
-- transaction of an Apply batch) with a cardflow SQLSTATE the Go side maps to
-- the contract's sentinel errors: CF001 stale version, CF002 task conflict,
-- CF003 not found. It returns bigint so it can stand in a CASE branch.
-- +goose StatementBegin
CREATE FUNCTION cardflow_raise(code text, message text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END;
$$;
-- +goose StatementEnd

CREATE TABLE idempotency (
    key        text PRIMARY KEY,
    result     json,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instances (
    id           text PRIMARY KEY,
    flow_id      text NOT NULL,
    flow_version integer NOT NULL,
    status       text NOT NULL,
    applicant    text NOT NULL,
    title        text NOT NULL,
    form         json,
    state        json,
    version      bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
) WITH (fillfactor = 80);
-- An instance row is rewritten at every step of its flow. No index covers a
-- column a step changes (status, state, version, updated_at) and pages keep
-- 20 % free, so those rewrites are HOT updates: no index entries, less WAL.
-- Listing newest first by flow or applicant uses these; a status filter is
-- applied to the rows they yield.
CREATE INDEX instances_created ON instances (created_at DESC, id DESC);
CREATE INDEX instances_flow ON instances (flow_id, created_at DESC, id DESC);
CREATE INDEX instances_applicant ON instances (applicant, created_at DESC, id DESC);

CREATE TABLE tasks (
    id          text PRIMARY KEY,
    instance_id text NOT NULL,
    step_id     text NOT NULL,
    kind        text NOT NULL,
    assignee    text NOT NULL,
    owner_id    text NOT NULL,
    status      text NOT NULL,
    outcome     text NOT NULL,
    comment     text NOT NULL,
    result      json,
    decided_by  text NOT NULL,
    seq         integer NOT NULL,
    due_at      timestamptz,
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz
);
-- A user's to-do list (/todo): tasks by assignee and status, oldest first.
CREATE INDEX tasks_assignee_status ON tasks (assignee, status, created_at, id);
CREATE INDEX tasks_instance ON tasks (instance_id, created_at, id);

CREATE TABLE timers (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    task_id      text NOT NULL,
    kind         text NOT NULL,
    due_at       timestamptz NOT NULL,
    payload      json,
    lease_holder text,
    lease_until  timestamptz
);
-- ClaimTimers scans due timers in due order.
CREATE INDEX timers_due ON timers (due_at, id);

-- The key (instance_id, seq) is also the order Audit reads, so one index
-- serves both.
CREATE TABLE audit (
    seq          bigserial,
    instance_id  text NOT NULL,
    task_id      text NOT NULL,
    actor        text NOT NULL,
    on_behalf_of text NOT NULL,
    action       text NOT NULL,
    detail       json,
    at           timestamptz NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

-- seq is given inside the Apply that holds the instance's row lock, so it
-- ascends in commit order per instance. key is NULL when the engine gave
-- none, so keyless messages never collide.
CREATE TABLE outbox (
    seq         bigserial PRIMARY KEY,
    key         text UNIQUE,
    instance_id text NOT NULL,
    topic       text NOT NULL,
    payload     json,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz
);
-- The relay reads only unsent messages; the partial index stays as small as
-- the backlog however long the history grows.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE definitions (
    flow_id    text NOT NULL,
    version    integer NOT NULL,
    name       text NOT NULL,
    hash       text NOT NULL,
    source     bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (flow_id, version)
);

CREATE TABLE departments (
    id     text PRIMARY KEY,
    name   text NOT NULL,
    parent text NOT NULL,
    head   text NOT NULL
);

-- roles keeps the directory's order; the GIN index serves UsersWithRole.
CREATE TABLE users (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    department text NOT NULL,
    manager    text NOT NULL,
    roles      text[] NOT NULL
);
CREATE INDEX users_roles ON users USING gin (roles);

-- One platform account maps to one user, which the primary key enforces.
CREATE TABLE user_platform_ids (
    platform         text NOT NULL,
    platform_user_id text NOT NULL,
    user_id          text NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);
CREATE INDEX user_platform_ids_user ON user_platform_ids (user_id);
