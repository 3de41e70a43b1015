-- Packed outbox rows (see storage/postgres/outbox.go): the notifications of
-- one commit for one instance and topic (a decision notifies the
-- applicant, the other signers and the next step's assignees) share one
-- row instead of a row each. Each row costs inserts into three indexes when
-- committed and an update that rewrites it and its index entries when the
-- relay marks it sent; outbox writes were about half of the database's time
-- in a card click, five rows per click.
--
-- keys holds the messages' keys in order ('' for none), and payload the
-- JSON array of their payloads. Rows written before this migration keep
-- keys NULL and their one message's key in key. sent_parts lists the
-- indexes of a row's messages marked sent while others are not (the relay
-- marks a row's messages together, so it stays NULL); sent_at is set once
-- all are.
--
-- A message key is still unique while its message is kept: outbox_keys
-- holds every key, and is pruned with the rows. Filling it takes about a
-- second per few hundred thousand kept messages, once, at upgrade.

-- +goose Up
ALTER TABLE outbox ADD COLUMN keys text[], ADD COLUMN sent_parts int[];

CREATE TABLE outbox_keys (key text PRIMARY KEY);
INSERT INTO outbox_keys (key) SELECT key FROM outbox WHERE key IS NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_key_key;
