-- Leave proxies (代理): who may act on whose tasks, when, for which flows.
-- The org file's rules (source 'org') are replaced at each load; rules an
-- administrator sets over the API (source 'api') are kept.

-- +goose Up
CREATE TABLE proxies (
    id         TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    by_user    TEXT    NOT NULL,
    from_at    INTEGER NOT NULL,
    until_at   INTEGER NOT NULL,
    flows      TEXT    NOT NULL,
    source     TEXT    NOT NULL
) STRICT;

