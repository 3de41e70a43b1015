-- The shop orders the orders adapter keeps (orders.Store): each order as it
-- now stands, and every event that moved it, recorded once per source and
-- id, with the order as it stood right after the event and whether the
-- event has been routed to flows. Amounts are bigint fen, never floats.
--
-- The documents are the orders package's JSON (an Order, an Event), kept
-- as json, not jsonb, as in 00001: the bytes written come back unchanged,
-- and a \u0000 in an order's text, which jsonb refuses, is kept. The
-- columns beside them are copies of a few of their fields, for lookups and
-- ordering.

-- +goose Up

-- One row per order: (platform, shop, no), since order numbers may repeat
-- across platforms and shops. updated_at is the platform's time of the
-- last change (Order.UpdatedAt), NULL when the source gave none.
CREATE TABLE orders (
    platform   text NOT NULL,
    shop       text NOT NULL,
    no         text NOT NULL,
    status     text NOT NULL,
    refund     text NOT NULL,
    paid_fen   bigint NOT NULL,
    updated_at timestamptz,
    doc        json NOT NULL,
    PRIMARY KEY (platform, shop, no)
);
-- OrdersByNo: one number on every platform and shop, newest first.
CREATE INDEX orders_no ON orders (no, updated_at DESC NULLS LAST);

-- One row per event. seq is the recording order UnroutedOrderEvents
-- returns; order_after is written in the transaction that records the
-- event, so a committed row always has it.
CREATE TABLE order_events (
    source      text NOT NULL,
    event_id    text NOT NULL,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    kind        text NOT NULL,
    platform    text NOT NULL,
    shop        text NOT NULL,
    no          text NOT NULL,
    event       json NOT NULL,
    order_after json,
    recorded_at timestamptz NOT NULL,
    routed_at   timestamptz,
    PRIMARY KEY (source, event_id)
);
-- The router reads the unrouted events oldest first; routed ones leave the
-- index.
CREATE INDEX order_events_unrouted ON order_events (seq) WHERE routed_at IS NULL;
