-- The bearer tokens of /api/v1 made with `cardflow tokens create`
-- (apitoken.Store). Only the SHA-256 hash of a token's secret is kept; the
-- id is public. last_used_at is written at most once a minute per token.

-- +goose Up
CREATE TABLE api_tokens (
    id           text        PRIMARY KEY,
    name         text        NOT NULL,
    scope        text        NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    secret_hash  bytea       NOT NULL CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL,
    created_by   text        NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
