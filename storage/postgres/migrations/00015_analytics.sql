-- Flow analytics (flows.AnalyticsReader): the tasks decided in a period
-- and the tasks open now are read through an index each. A decision
-- rewrites a task's status, which tasks_assignee_status indexes already,
-- so indexing decided_at costs no HOT update a task still had.

-- +goose Up

CREATE INDEX tasks_decided ON tasks (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX tasks_open ON tasks (created_at) WHERE status = 'open';

