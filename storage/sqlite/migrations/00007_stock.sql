-- The stock ledger (stock.Store): one row per SKU and warehouse with what is
-- on hand and reserved, and every movement that changed it, recorded once
-- per source and event id, with the change it made and the row right after
-- it. Quantities are INTEGER pieces; times are INTEGER microseconds since
-- the Unix epoch in UTC, as in 00001.

-- +goose Up

-- One row per (sku, warehouse). updated_at is the time (Movement.At) of the
-- latest movement applied.
CREATE TABLE stock_levels (
    sku        TEXT    NOT NULL,
    warehouse  TEXT    NOT NULL,
    on_hand    INTEGER NOT NULL,
    reserved   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sku, warehouse)
) STRICT, WITHOUT ROWID;

-- One row per movement. seq, the rowid, is the recording order; being
-- declared, it survives VACUUM. The *_after columns are the stock_levels
-- row as the movement left it.
CREATE TABLE stock_movements (
    seq            INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    event_id       TEXT    NOT NULL,
    sku            TEXT    NOT NULL,
    warehouse      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    qty            INTEGER NOT NULL,
    from_reserved  INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    order_no       TEXT    NOT NULL,
    platform       TEXT    NOT NULL,
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand_after  INTEGER NOT NULL,
    reserved_after INTEGER NOT NULL,
    updated_after  INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    UNIQUE (source, event_id)
) STRICT;
-- A row's history, oldest first.
CREATE INDEX stock_movements_row ON stock_movements (sku, warehouse, seq);
