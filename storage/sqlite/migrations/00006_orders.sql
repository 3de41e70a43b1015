-- The shop orders the orders adapter keeps (orders.Store): each order as it
-- now stands, and every event that moved it, recorded once per source and
-- id, with the order as it stood right after the event and whether the
-- event has been routed to flows. Amounts are INTEGER fen, never floats;
-- times are INTEGER microseconds since the Unix epoch in UTC, NULL for a
-- zero time, as in 00001.
--
-- The documents are the orders package's JSON (an Order, an Event) as TEXT;
-- the columns beside them are copies of a few of their fields, for lookups
-- and ordering.

-- +goose Up

-- One row per order: (platform, shop, no), since order numbers may repeat
-- across platforms and shops. updated_at is the platform's time of the
-- last change (Order.UpdatedAt), NULL when the source gave none. A rowid
-- table: with its lines, an order's document may be a good part of a page.
CREATE TABLE orders (
    platform   TEXT    NOT NULL,
    shop       TEXT    NOT NULL,
    no         TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    refund     TEXT    NOT NULL,
    paid_fen   INTEGER NOT NULL,
    updated_at INTEGER,
    doc        TEXT    NOT NULL,
    PRIMARY KEY (platform, shop, no)
) STRICT;
-- OrdersByNo: one number on every platform and shop, newest first.
CREATE INDEX orders_no ON orders (no, updated_at DESC);

-- One row per event. seq, the rowid, is the recording order
-- UnroutedOrderEvents returns; being declared, it survives VACUUM, which
-- may renumber an implicit rowid. order_after is written in the
-- transaction that records the event, so a committed row always has it.
CREATE TABLE order_events (
    seq         INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    platform    TEXT    NOT NULL,
    shop        TEXT    NOT NULL,
    no          TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    order_after TEXT,
    recorded_at INTEGER NOT NULL,
    routed_at   INTEGER,
    UNIQUE (source, event_id)
) STRICT;
-- The router reads the unrouted events oldest first; routed ones leave the
-- index.
CREATE INDEX order_events_unrouted ON order_events (seq) WHERE routed_at IS NULL;
