-- +goose Up
-- Browser push (README, "Browser push"): the browsers a person subscribed.
-- An endpoint is one browser's; p256dh and auth are its keys (base64url).
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- +goose Down
DROP TABLE push_subscriptions;
