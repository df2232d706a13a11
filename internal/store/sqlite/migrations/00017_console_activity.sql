-- +goose Up
-- Who received an event and how much of it was read: an event's
-- notifications by person, with read_at in the index (the read rates of
-- the types page sum it without touching the table).
CREATE INDEX notifications_event ON notifications (event_id, user_id, channel, read_at);
-- Search events by recipient: the events whose e-mails went to a person.
CREATE INDEX deliveries_user ON deliveries (user_id, event_id) WHERE user_id <> '';
-- E-mail outcomes per hour: the deliveries that ended (sent, failed,
-- skipped) in a period, from the index alone; a delivery enters it once,
-- when it ends.
CREATE INDEX deliveries_outcomes ON deliveries (updated_at, state) WHERE state IN ('sent', 'failed', 'skipped');
-- The console's activity charts, one row per UTC hour that has ended
-- (written by the first dashboard that needs it, never changed after):
-- 30 days of charts read 720 rows, whatever the size of the history.
CREATE TABLE activity_hours (
    hour                   DATETIME PRIMARY KEY,
    events                 INTEGER NOT NULL DEFAULT 0,
    scheduled              INTEGER NOT NULL DEFAULT 0,
    max_lag_ms             BIGINT NOT NULL DEFAULT 0,
    reached_email          INTEGER NOT NULL DEFAULT 0,
    reached_message        INTEGER NOT NULL DEFAULT 0,
    reached_header_message INTEGER NOT NULL DEFAULT 0,
    reached_alert          INTEGER NOT NULL DEFAULT 0,
    emails_sent            INTEGER NOT NULL DEFAULT 0,
    emails_failed          INTEGER NOT NULL DEFAULT 0,
    emails_skipped         INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE activity_hours;
DROP INDEX deliveries_outcomes;
DROP INDEX deliveries_user;
DROP INDEX notifications_event;
