-- Pruning (see Store.PruneSentOutbox and Store.PruneIdempotency): sent
-- outbox messages and idempotency keys are deleted once older than their
-- retention, oldest first, in bounded batches found through these indexes.

-- +goose Up

-- Only sent rows are ever pruned; an unsent row is not in this index.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- When the key was recorded, in microseconds since the epoch like every time
-- of this schema. Keys recorded before this migration did not keep one: they
-- count from the upgrade, so none is pruned sooner than its retention after
-- it.
ALTER TABLE idempotency ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE idempotency SET created_at = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
CREATE INDEX idempotency_created ON idempotency (created_at);
