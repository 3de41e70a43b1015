-- Leave proxies (代理): who may act on whose tasks, when, for which flows.
-- The org file's rules (source 'org') are replaced at each load; rules an
-- administrator sets over the API (source 'api') are kept.

-- +goose Up
CREATE TABLE proxies (
    id       text PRIMARY KEY,
    user_id  text NOT NULL,
    by_user  text NOT NULL,
    from_at  timestamptz NOT NULL,
    until_at timestamptz NOT NULL,
    flows    text[] NOT NULL,
    source   text NOT NULL
);

