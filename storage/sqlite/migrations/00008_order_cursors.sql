-- Where the orders adapter's pollers are in each shop's order history
-- (orders.Store's cursors): one opaque cursor per source and shop, so a
-- poll resumes where the last one stopped, across restarts. Times are
-- INTEGER microseconds since the Unix epoch in UTC, as in 00001.

-- +goose Up
CREATE TABLE order_cursors (
    source     TEXT    NOT NULL,
    shop       TEXT    NOT NULL,
    cursor     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, shop)
) STRICT;
