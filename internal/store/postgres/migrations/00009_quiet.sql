-- +goose Up
-- Quiet hours and e-mail only if unread (README, "Preferences").
--
-- A person's quiet hours, as JSON {"start": "21:00", "end": "08:00",
-- "days": ["saturday"]} ('' for none), in their time_zone (00008); and
-- their "e-mail me only if unread after N minutes" (NULL: the type's;
-- 0: never wait).
ALTER TABLE users ADD COLUMN quiet_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email_if_unread_minutes INTEGER;
-- The people whose e-mail may be held whatever the type: few, read first
-- by a publication that e-mails many.
CREATE INDEX users_holds ON users (id) WHERE quiet_hours <> '' OR email_if_unread_minutes > 0;
-- A type's e-mail waits this many minutes and leaves only if the in-app
-- notification is still unread (0: at once, as before).
ALTER TABLE notification_types ADD COLUMN email_if_unread_minutes INTEGER NOT NULL DEFAULT 0;

-- A held e-mail is an ordinary queued delivery with a not-before time:
-- why it is held ('quiet_hours', 'unread'), and whether reading the
-- in-app notification of the event cancels it.
ALTER TABLE deliveries ADD COLUMN not_before TIMESTAMPTZ;
ALTER TABLE deliveries ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN unless_read BOOLEAN NOT NULL DEFAULT FALSE;
-- Queued and not held: what a claim takes first, without stepping over
-- the held ones. Held: found by when they fall due.
CREATE INDEX deliveries_queued_now ON deliveries (id) WHERE state = 'queued' AND not_before IS NULL;
CREATE INDEX deliveries_held ON deliveries (not_before) WHERE state = 'queued' AND not_before IS NOT NULL;

-- +goose Down
DROP INDEX deliveries_held;
DROP INDEX deliveries_queued_now;
DROP INDEX users_holds;
ALTER TABLE deliveries DROP COLUMN unless_read;
ALTER TABLE deliveries DROP COLUMN hold_reason;
ALTER TABLE deliveries DROP COLUMN not_before;
ALTER TABLE notification_types DROP COLUMN email_if_unread_minutes;
ALTER TABLE users DROP COLUMN email_if_unread_minutes;
ALTER TABLE users DROP COLUMN quiet_hours;
