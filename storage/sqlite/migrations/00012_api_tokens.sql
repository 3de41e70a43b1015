-- The bearer tokens of /api/v1 made with `cardflow tokens create`
-- (apitoken.Store). Only the SHA-256 hash of a token's secret is kept; the
-- id is public. last_used_at is written at most once a minute per token.
-- Times are INTEGER microseconds since the Unix epoch in UTC, as in 00001;
-- NULL is never (expires_at) or not yet (last_used_at, revoked_at).

-- +goose Up
CREATE TABLE api_tokens (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    secret_hash  BLOB    NOT NULL CHECK (length(secret_hash) = 32),
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
) STRICT;
