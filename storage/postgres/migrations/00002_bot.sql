-- What bot remembers (bot.Store): which platform message shows which card to
-- whom and the state it shows, and the inbound events already answered.
-- Lengths are bounded by bot's Validate before anything reaches SQL, so the
-- columns are plain text.

-- +goose Up

-- One row per card: (platform, recipient, subject). PutCard's compare-and-set
-- on state_version is the WHERE of its upsert, atomic under the row lock.
CREATE TABLE bot_cards (
    platform      text NOT NULL,
    recipient     text NOT NULL,
    subject       text NOT NULL,
    instance_id   text NOT NULL,
    message_id    text NOT NULL,
    update_token  text NOT NULL,
    token_expires timestamptz,
    state_version bigint NOT NULL,
    digest        text NOT NULL,
    sent_at       timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (platform, recipient, subject)
);
-- After a decision, every copy of an instance's cards is updated.
CREATE INDEX bot_cards_instance ON bot_cards (instance_id);

CREATE TABLE bot_events (
    platform text NOT NULL,
    event_id text NOT NULL,
    answer   bytea,
    at       timestamptz NOT NULL,
    PRIMARY KEY (platform, event_id)
);
-- PruneEvents deletes the oldest first.
CREATE INDEX bot_events_at ON bot_events (at);
