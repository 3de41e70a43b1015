-- Pruning (see Store.PruneSentOutbox and Store.PruneIdempotency): sent
-- outbox messages and idempotency keys are deleted once older than their
-- retention, oldest first, in bounded batches. Each batch finds its rows
-- through one of these indexes, so it reads only what it deletes however
-- large the tables are.
--
-- Building them locks writes to the two tables for as long as the build
-- takes (about a second per few hundred thousand rows), once, at upgrade.
-- CREATE INDEX CONCURRENTLY would not, but a failed concurrent build leaves
-- an invalid index behind that a rerun does not repair.

-- +goose Up

-- Only sent rows are ever pruned; an unsent row, the one Apply inserts, is
-- not in this index and costs nothing to commit.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- created_at (the commit's transaction time) has been set on every key since
-- the first schema.
CREATE INDEX idempotency_created ON idempotency (created_at);
