-- +goose Up
-- Who received an event and how much of it was read: an event's
-- notifications by person, with read_at in the index (the read rates of
-- the types page sum it without touching the table).
CREATE INDEX notifications_event ON notifications (event_id, user_id, channel, read_at);
-- Search events by recipient: the events whose e-mails went to a person.
CREATE INDEX deliveries_user ON deliveries (user_id, event_id) WHERE user_id <> '';
-- E-mail outcomes per hour: the deliveries queued in a period, by state,
-- from the index alone.
CREATE INDEX deliveries_created_at ON deliveries (created_at, state);

-- +goose Down
DROP INDEX deliveries_created_at;
DROP INDEX deliveries_user;
DROP INDEX notifications_event;
