-- +goose Up
-- E-mail sending: why each address is reached, the Message-ID kept across
-- attempts, when the next attempt is due, and the claim (lease) of the
-- worker sending it.
ALTER TABLE deliveries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN last_attempt_at DATETIME;
ALTER TABLE deliveries ADD COLUMN next_attempt_at DATETIME;
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN lease_until DATETIME;
-- Queued deliveries are found through deliveries_state (state, id); these
-- two find retries that are due and claims that have lapsed.
CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE state = 'retrying';
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';

-- Files sent with every e-mail of an event, in the order given.
CREATE TABLE event_attachments (
    event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (event_id, position)
);

-- +goose Down
DROP TABLE event_attachments;
DROP INDEX deliveries_lease;
DROP INDEX deliveries_retry_due;
ALTER TABLE deliveries DROP COLUMN lease_until;
ALTER TABLE deliveries DROP COLUMN lease_owner;
ALTER TABLE deliveries DROP COLUMN next_attempt_at;
ALTER TABLE deliveries DROP COLUMN last_attempt_at;
ALTER TABLE deliveries DROP COLUMN message_id;
ALTER TABLE deliveries DROP COLUMN reason;
