-- +goose Up
-- One shape for every channel that leaves the process (internal/outbound):
-- a delivery has a channel (email, push, webhook) and a target (an e-mail
-- address, a push subscription id, a webhook outlet id). Existing rows are
-- e-mails, whose target is their address. A delivery of another channel
-- has "channel:target" as its address, so that (event_id, address) stays
-- unique per channel and target.
ALTER TABLE deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE deliveries ADD COLUMN target TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET target = address;
-- Each channel's workers claim only its deliveries: the indexes a claim
-- walks lead with the channel.
DROP INDEX deliveries_queued_now;
DROP INDEX deliveries_held;
DROP INDEX deliveries_retry_due;
DROP INDEX deliveries_lease;
CREATE INDEX deliveries_queued_now ON deliveries (channel, id) WHERE state = 'queued' AND not_before IS NULL;
CREATE INDEX deliveries_held ON deliveries (channel, not_before) WHERE state = 'queued' AND not_before IS NOT NULL;
CREATE INDEX deliveries_retry_due ON deliveries (channel, next_attempt_at) WHERE state = 'retrying';
CREATE INDEX deliveries_lease ON deliveries (channel, lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_channel ON deliveries (channel, id);

-- +goose Down
DROP INDEX deliveries_channel;
DROP INDEX deliveries_lease;
DROP INDEX deliveries_retry_due;
DROP INDEX deliveries_held;
DROP INDEX deliveries_queued_now;
DELETE FROM deliveries WHERE channel <> 'email';
CREATE INDEX deliveries_queued_now ON deliveries (id) WHERE state = 'queued' AND not_before IS NULL;
CREATE INDEX deliveries_held ON deliveries (not_before) WHERE state = 'queued' AND not_before IS NOT NULL;
CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE state = 'retrying';
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE state = 'sending';
ALTER TABLE deliveries DROP COLUMN target;
ALTER TABLE deliveries DROP COLUMN channel;
