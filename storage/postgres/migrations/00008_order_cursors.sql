-- Where the orders adapter's pollers are in each shop's order history
-- (orders.Store's cursors): one opaque cursor per source and shop, so a
-- poll resumes where the last one stopped, across restarts.

-- +goose Up
CREATE TABLE order_cursors (
    source     text        NOT NULL,
    shop       text        NOT NULL,
    cursor     text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (source, shop)
);
