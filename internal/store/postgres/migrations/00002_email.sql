-- +goose Up
-- E-mail sending: why each address is reached, the Message-ID kept across
-- attempts, when the next attempt is due, and the claim (lease) of the
-- worker sending it.
ALTER TABLE deliveries
    ADD COLUMN reason          TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN message_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN last_attempt_at TIMESTAMPTZ,
    ADD COLUMN next_attempt_at TIMESTAMPTZ,
    ADD COLUMN lease_owner     TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN lease_until     TIMESTAMPTZ;
-- Queued deliveries are found through deliveries_state (state, id); these
-- two find retries that are due and claims that have lapsed.
CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE state = 'retrying';
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';

-- Files sent with every e-mail of an event, in the order given.
CREATE TABLE event_attachments (
    event_id     BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (event_id, position)
);

-- +goose Down
DROP TABLE event_attachments;
DROP INDEX deliveries_lease;
DROP INDEX deliveries_retry_due;
ALTER TABLE deliveries
    DROP COLUMN lease_until,
    DROP COLUMN lease_owner,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_attempt_at,
    DROP COLUMN message_id,
    DROP COLUMN reason;
