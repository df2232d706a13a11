-- +goose Up
-- The console's dashboard sums the counts of the events published today and
-- measures how late the oldest pending event is: both read a few index
-- entries instead of scanning the events.
CREATE INDEX events_published_at ON events (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX events_pending_due ON events (due_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX events_pending_due;
DROP INDEX events_published_at;
