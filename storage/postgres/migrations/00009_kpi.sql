-- What the KPI figures (kpi.Store) are computed from: copies of the order
-- fields they sum, beside the order's document, so that a period's totals
-- are one indexed range scan; and the metrics other systems push (ad
-- spend, visitors, cost), one value per source, name, platform, shop and
-- day.

-- +goose Up

-- created_at and paid_at are Order.CreatedAt and Order.PaidAt, NULL when
-- unset; total_fen is Order.Total (the goods value, for GMV); units the
-- sum of the lines' quantities. The existing rows are filled from their
-- documents here; IngestOrderEvent keeps them from now on. The fraction of
-- a second is cut to microseconds, as the store writes times (pgx
-- truncates; a cast would round).
ALTER TABLE orders
    ADD COLUMN created_at timestamptz,
    ADD COLUMN paid_at    timestamptz,
    ADD COLUMN total_fen  bigint NOT NULL DEFAULT 0,
    ADD COLUMN units      bigint NOT NULL DEFAULT 0;

UPDATE orders SET
    created_at = CASE WHEN doc->>'created_at' IS NULL OR doc->>'created_at' LIKE '0001-01-01%' THEN NULL
        ELSE regexp_replace(doc->>'created_at', '(\.[0-9]{6})[0-9]+', '\1')::timestamptz END,
    paid_at = CASE WHEN doc->>'paid_at' IS NULL OR doc->>'paid_at' LIKE '0001-01-01%' THEN NULL
        ELSE regexp_replace(doc->>'paid_at', '(\.[0-9]{6})[0-9]+', '\1')::timestamptz END,
    total_fen = coalesce((doc->>'total')::bigint, 0),
    units = coalesce((SELECT sum((l->>'qty')::bigint) FROM json_array_elements(
        CASE WHEN json_typeof(doc->'lines') = 'array' THEN doc->'lines' ELSE '[]'::json END) l), 0);

-- A period's totals: the orders paid in it, and those placed in it, each
-- read from its index alone.
CREATE INDEX orders_paid_at ON orders (paid_at) INCLUDE (platform, shop, paid_fen, units, refund, status)
    WHERE paid_at IS NOT NULL;
CREATE INDEX orders_created_at ON orders (created_at) INCLUDE (platform, shop, total_fen)
    WHERE created_at IS NOT NULL;

-- One row per pushed value. day is the date in the zone it was pushed in;
-- day_start the instant that day began, which ranges are summed by. value
-- is exact (numeric), never a float.
CREATE TABLE kpi_metrics (
    source     text        NOT NULL,
    name       text        NOT NULL,
    platform   text        NOT NULL,
    shop       text        NOT NULL,
    day        text        NOT NULL,
    day_start  timestamptz NOT NULL,
    value      numeric     NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (source, name, platform, shop, day)
);
CREATE INDEX kpi_metrics_name ON kpi_metrics (name, day_start);
