-- +goose Up
-- Digests (README, "Preferences"): a person's e-mail frequency, for all
-- their e-mail (category '') or one category, and the e-mails held for
-- the next digest.
--
-- frequency: immediate, hourly, daily (at HH:MM) or weekly (day, at), in
-- the person's time zone. next_at is when the schedule falls due next
-- (NULL: nothing to send, an immediate schedule without held items).
CREATE TABLE digest_settings (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category   TEXT COLLATE "C" NOT NULL,
    frequency  TEXT COLLATE "C" NOT NULL CHECK (frequency IN ('immediate', 'hourly', 'daily', 'weekly')),
    at         TEXT COLLATE "C" NOT NULL DEFAULT '',
    day        TEXT COLLATE "C" NOT NULL DEFAULT '',
    next_at    TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, category)
);
-- What a fan-out asks: who holds e-mail of this category (few rows).
CREATE INDEX digest_settings_category ON digest_settings (category, frequency);
-- What the digest job asks: which schedules are due.
CREATE INDEX digest_settings_due ON digest_settings (next_at) WHERE next_at IS NOT NULL;

-- An e-mail held for a digest: the event, the person, and the schedule
-- (digest_settings.category) it waits for. A digest that lists it, or
-- leaves it out, deletes it.
CREATE TABLE digest_items (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL,
    category   TEXT COLLATE "C" NOT NULL,
    schedule   TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX digest_items_pending ON digest_items (user_id, schedule);
CREATE INDEX digest_items_event ON digest_items (event_id);

-- A digest as rendered. Its e-mail is an ordinary delivery whose event_id
-- is the digest's id negated (events' ids are positive), so that
-- (event_id, address) stays unique and the delivery log, retries and
-- failure states are the same as any e-mail's.
CREATE TABLE digests (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL,
    schedule   TEXT COLLATE "C" NOT NULL,
    items      INTEGER NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    html       TEXT COLLATE "C" NOT NULL,
    text       TEXT COLLATE "C" NOT NULL,
    locale     TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- Compressed with lz4 and kept in the row where they fit: a digest's
-- items repeat the same markup, so they shrink well, and fast.
ALTER TABLE digests ALTER COLUMN html SET COMPRESSION lz4, ALTER COLUMN text SET COMPRESSION lz4,
    ALTER COLUMN html SET STORAGE MAIN, ALTER COLUMN text SET STORAGE MAIN;

-- +goose Down
DROP TABLE digests;
DROP TABLE digest_items;
DROP TABLE digest_settings;
