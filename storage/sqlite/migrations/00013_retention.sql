-- Retention (see Store.PruneInstances and Store.PruneCards): finished
-- instances are deleted with everything keyed by their id once older than
-- store.instance_retention, and the card records of finished instances once
-- older than store.card_retention, in bounded batches. The instances are
-- found through instances_created (created_at never changes).

-- +goose Up

-- A finished instance's order links go with it.
CREATE INDEX order_instances_instance ON order_instances (instance_id);

-- PruneCards reads the oldest cards first and stops at its limit.
CREATE INDEX bot_cards_sent ON bot_cards (sent_at);
