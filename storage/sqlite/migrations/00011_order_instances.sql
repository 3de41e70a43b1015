-- Which flow instances were started for which order (orders.Store's
-- instance links): by a routing rule on one of the order's events, or from
-- the order's card. The order card lists an order's latest ones. No foreign
-- key to orders or instances: a link may be recorded before its order's
-- detail arrives, and instances are pruned on their own schedule (a link to
-- a pruned instance is skipped when read). Times are INTEGER microseconds
-- since the Unix epoch in UTC, as in 00001.

-- +goose Up
CREATE TABLE order_instances (
    platform    TEXT    NOT NULL,
    shop        TEXT    NOT NULL,
    no          TEXT    NOT NULL,
    instance_id TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, shop, no, instance_id)
) STRICT;
-- OrderInstances: one order's links, latest started first.
CREATE INDEX order_instances_latest ON order_instances (platform, shop, no, started_at DESC);
