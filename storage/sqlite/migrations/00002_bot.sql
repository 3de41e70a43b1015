-- What bot remembers (bot.Store): which platform message shows which card to
-- whom and the state it shows, and the inbound events already answered.
-- Times are INTEGER microseconds since the Unix epoch in UTC, NULL for a
-- zero time, as in 00001. Lengths are bounded by bot's Validate.

-- +goose Up
CREATE TABLE bot_cards (
    platform      TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    instance_id   TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    update_token  TEXT    NOT NULL,
    token_expires INTEGER,
    state_version INTEGER NOT NULL,
    digest        TEXT    NOT NULL,
    sent_at       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (platform, recipient, subject)
) STRICT, WITHOUT ROWID;
-- After a decision, every copy of an instance's cards is updated.
CREATE INDEX bot_cards_instance ON bot_cards (instance_id);

CREATE TABLE bot_events (
    platform TEXT    NOT NULL,
    event_id TEXT    NOT NULL,
    answer   BLOB,
    at       INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
) STRICT;
-- PruneEvents deletes the oldest first.
CREATE INDEX bot_events_at ON bot_events (at);
