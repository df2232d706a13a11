-- +goose Up
-- Notifications that lead somewhere (README, "Links and actions"): an
-- event may carry a url the person opens and up to three actions, kept as
-- a JSON array of {label, url} or {label, callback} ('' when none).
ALTER TABLE events ADD COLUMN url TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN actions TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Archive: an archived notification leaves the inbox, is not deleted, and
-- no longer counts as unread. The inbox index covers archived_at too, so
-- that lists and unread counts still read the index alone.
ALTER TABLE notifications ADD COLUMN archived_at TIMESTAMPTZ;
DROP INDEX notifications_inbox;
CREATE INDEX notifications_inbox ON notifications (user_id, channel, visible_at, id, read_at, expires_at, archived_at);

-- +goose Down
DROP INDEX notifications_inbox;
CREATE INDEX notifications_inbox ON notifications (user_id, channel, visible_at, id, read_at, expires_at);
ALTER TABLE notifications DROP COLUMN archived_at;
ALTER TABLE events DROP COLUMN actions;
ALTER TABLE events DROP COLUMN url;
