package client

import (
	"context"
	"time"
)

// PushKey is the server's VAPID public key, for PushManager.subscribe's
// applicationServerKey.
type PushKey struct {
	PublicKey string `json:"public_key"`
	// Enabled: the server has a push.subject and sends pushes.
	Enabled bool `json:"enabled"`
}

// PushPublicKey returns the key browsers subscribe with (no credential
// needed).
func (c *Client) PushPublicKey(ctx context.Context) (*PushKey, error) {
	var k PushKey
	_, err := c.call(ctx, "GET", "/api/v1/push/public-key", nil, nil, &k, nil)
	return &k, err
}

// PushSubscriptionInput is what a browser's PushSubscription.toJSON()
// gives.
type PushSubscriptionInput struct {
	Endpoint string   `json:"endpoint"`
	Keys     PushKeys `json:"keys"`
}

// PushKeys are a browser's keys, base64url.
type PushKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// PushSubscription is a registered browser.
type PushSubscription struct {
	ID        int64     `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

// SubscribePush registers a browser of the user whose token the client
// sends.
func (c *Client) SubscribePush(ctx context.Context, s PushSubscriptionInput) (*PushSubscription, error) {
	var out PushSubscription
	_, err := c.call(ctx, "POST", "/api/v1/me/push-subscriptions", nil, s, &out, nil)
	return &out, err
}

// UnsubscribePush forgets the user's browser of endpoint.
func (c *Client) UnsubscribePush(ctx context.Context, endpoint string) error {
	_, err := c.call(ctx, "DELETE", "/api/v1/me/push-subscriptions", nil, struct {
		Endpoint string `json:"endpoint"`
	}{endpoint}, nil, nil)
	return err
}
