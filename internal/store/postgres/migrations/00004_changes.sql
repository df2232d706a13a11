-- +goose Up
-- The change log of in-app notifications: what their recipients did to them
-- (read, unread, read all, postponed), written in the transaction of the
-- change, so that open streams learn of it and a stream resuming after a
-- reconnect replays what it missed. Purged with the read retention.
CREATE TABLE notification_changes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    notification_id BIGINT NOT NULL DEFAULT 0,
    channel         TEXT COLLATE "C" NOT NULL DEFAULT '',
    effective_at    TIMESTAMPTZ NOT NULL,
    affected        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL
);
-- A resuming stream reads one user's entries after an id.
CREATE INDEX notification_changes_user ON notification_changes (user_id, id);
CREATE INDEX notification_changes_created_at ON notification_changes (created_at);

-- +goose Down
DROP TABLE notification_changes;
