-- The language and time zone a user reads cards in (the org file's locale
-- and time_zone). '' stands for the defaults, zh-CN and Asia/Shanghai, and
-- is what rows written before this migration read as until the org file is
-- loaded again.

-- +goose Up
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
