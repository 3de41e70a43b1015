-- The stock push outbox (stock.PushStore): the targets cardflow tells the
-- sellable quantity of each SKU that changed, and one row per target and
-- SKU holding the latest quantity to tell it. A movement upserts the rows of
-- its SKU in its own transaction, so many changes before a push collapse
-- into one row and no committed change misses its push. Times are INTEGER
-- microseconds since the Unix epoch in UTC, as in 00001.

-- +goose Up

-- One row per registered target. failures and since are its outage: the
-- consecutive failed deliveries and when the first of them failed.
CREATE TABLE stock_push_targets (
    name     TEXT    PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    since    INTEGER
) STRICT;

-- One row per (target, sku). version counts the SKU's changes, pushed is
-- the version last delivered: the row is pending while version > pushed.
-- attempts counts failed deliveries since the last success, next_at is
-- when the row is due; lease_token and lease_until are a pusher's claim.
CREATE TABLE stock_pushes (
    target      TEXT    NOT NULL,
    sku         TEXT    NOT NULL,
    sellable    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    pushed      INTEGER NOT NULL DEFAULT 0,
    changed_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER,
    PRIMARY KEY (target, sku)
) STRICT, WITHOUT ROWID;
-- The due rows of a target, for the claim.
CREATE INDEX stock_pushes_due ON stock_pushes (target, next_at) WHERE version > pushed;
-- The rows of a SKU, for the movement's upsert.
CREATE INDEX stock_pushes_sku ON stock_pushes (sku);
