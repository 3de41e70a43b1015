-- The stock push outbox (stock.PushStore): the targets cardflow tells the
-- sellable quantity of each SKU that changed, and one row per target and
-- SKU holding the latest quantity to tell it. A movement upserts the rows of
-- its SKU in its own transaction, so many changes before a push collapse
-- into one row and no committed change misses its push.

-- +goose Up

-- One row per registered target. failures and since are its outage: the
-- consecutive failed deliveries and when the first of them failed.
CREATE TABLE stock_push_targets (
    name     text    PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    since    timestamptz
);

-- One row per (target, sku). version counts the SKU's changes, pushed is
-- the version last delivered: the row is pending while version > pushed.
-- attempts counts failed deliveries since the last success, next_at is
-- when the row is due; lease_token and lease_until are a pusher's claim.
CREATE TABLE stock_pushes (
    target      text        NOT NULL,
    sku         text        NOT NULL,
    sellable    bigint      NOT NULL,
    version     bigint      NOT NULL,
    pushed      bigint      NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL,
    lease_token text,
    lease_until timestamptz,
    PRIMARY KEY (target, sku)
);
-- The due rows of a target, for the claim.
CREATE INDEX stock_pushes_due ON stock_pushes (target, next_at) WHERE version > pushed;
-- The rows of a SKU, for the movement's upsert.
CREATE INDEX stock_pushes_sku ON stock_pushes (sku);

