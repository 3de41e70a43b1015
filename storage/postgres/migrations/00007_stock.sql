-- The stock ledger (stock.Store): one row per SKU and warehouse with what is
-- on hand and reserved, and every movement that changed it, recorded once
-- per source and event id, with the change it made and the row right after
-- it. Quantities are bigint pieces, never floats.

-- +goose Up

-- One row per (sku, warehouse). updated_at is the time (Movement.At) of the
-- latest movement applied; NULL only in the instant between the row's
-- insert and the first movement's update, inside that transaction.
CREATE TABLE stock_levels (
    sku        text   NOT NULL,
    warehouse  text   NOT NULL,
    on_hand    bigint NOT NULL,
    reserved   bigint NOT NULL,
    updated_at timestamptz,
    PRIMARY KEY (sku, warehouse)
);

-- One row per movement. seq is the recording order; the *_after columns
-- are the stock_levels row as the movement left it.
CREATE TABLE stock_movements (
    source         text    NOT NULL,
    event_id       text    NOT NULL,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    sku            text    NOT NULL,
    warehouse      text    NOT NULL,
    kind           text    NOT NULL,
    qty            bigint  NOT NULL,
    from_reserved  boolean NOT NULL,
    at             timestamptz NOT NULL,
    order_no       text    NOT NULL,
    platform       text    NOT NULL,
    on_hand_delta  bigint  NOT NULL,
    reserved_delta bigint  NOT NULL,
    on_hand_after  bigint  NOT NULL,
    reserved_after bigint  NOT NULL,
    updated_after  timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (source, event_id)
);
-- A row's history, oldest first.
CREATE INDEX stock_movements_row ON stock_movements (sku, warehouse, seq);
