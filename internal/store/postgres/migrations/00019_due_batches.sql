-- +goose Up
-- The due loop claims, in due order, the pending events without check_url
-- (the others have a job each): this index lets it read the first few of
-- a burst of 100,000 instead of every pending event at each claim.
CREATE INDEX events_due_batch ON events (due_at) WHERE status = 'pending' AND check_url = '';

-- +goose Down
DROP INDEX events_due_batch;
