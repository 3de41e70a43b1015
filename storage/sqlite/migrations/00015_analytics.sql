-- Flow analytics (flows.AnalyticsReader): the tasks decided in a period
-- are read through their decision time; the tasks open now through
-- tasks_status (00001).

-- +goose Up

CREATE INDEX tasks_decided ON tasks (decided_at) WHERE decided_at IS NOT NULL;

