-- What the KPI figures (kpi.Store) are computed from: copies of the order
-- fields they sum, beside the order's document, so that a period's totals
-- are one indexed range scan; and the metrics other systems push (ad
-- spend, visitors, cost), one value per source, name, platform, shop and
-- day. Times are INTEGER microseconds since the Unix epoch in UTC, as in
-- 00001.

-- +goose Up

-- created_at and paid_at are Order.CreatedAt and Order.PaidAt, NULL when
-- unset; total_fen is Order.Total (the goods value, for GMV); units the
-- sum of the lines' quantities. The existing rows are filled from their
-- documents here (their times are UTC, "2026-11-30T09:00:00.123456789Z",
-- cut to microseconds as the store writes them); IngestOrderEvent keeps
-- them from now on.
ALTER TABLE orders ADD COLUMN created_at INTEGER;
ALTER TABLE orders ADD COLUMN paid_at INTEGER;
ALTER TABLE orders ADD COLUMN total_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN units INTEGER NOT NULL DEFAULT 0;

UPDATE orders SET
    created_at = (SELECT CASE WHEN t IS NULL OR t LIKE '0001-01-01%' THEN NULL
            ELSE CAST(strftime('%s', substr(t, 1, 19)) AS INTEGER) * 1000000
                + CASE WHEN substr(t, 20, 1) = '.'
                    THEN CAST(substr(substr(t, 21, instr(t, 'Z') - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END
            END FROM (SELECT json_extract(doc, '$.created_at') AS t)),
    paid_at = (SELECT CASE WHEN t IS NULL OR t LIKE '0001-01-01%' THEN NULL
            ELSE CAST(strftime('%s', substr(t, 1, 19)) AS INTEGER) * 1000000
                + CASE WHEN substr(t, 20, 1) = '.'
                    THEN CAST(substr(substr(t, 21, instr(t, 'Z') - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END
            END FROM (SELECT json_extract(doc, '$.paid_at') AS t)),
    total_fen = coalesce(json_extract(doc, '$.total'), 0),
    units = coalesce((SELECT sum(json_extract(l.value, '$.qty')) FROM json_each(doc, '$.lines') l), 0);

-- A period's totals: the orders paid in it, and those placed in it, each
-- read from its (covering) index alone.
CREATE INDEX orders_paid_at ON orders (paid_at, platform, shop, paid_fen, units, refund, status)
    WHERE paid_at IS NOT NULL;
CREATE INDEX orders_created_at ON orders (created_at, platform, shop, total_fen)
    WHERE created_at IS NOT NULL;

-- One row per pushed value. day is the date in the zone it was pushed in;
-- day_start the instant that day began, which ranges are summed by. value
-- is the exact decimal as TEXT, summed by the store in decimal, never as
-- a float.
CREATE TABLE kpi_metrics (
    source     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    shop       TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    day_start  INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, name, platform, shop, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX kpi_metrics_name ON kpi_metrics (name, day_start);
