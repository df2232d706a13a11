package store

import (
	"context"
	"time"
)

// PushSubscription is one browser a person subscribed to Web Push: the
// push service's endpoint and the browser's keys (base64url, as the Push
// API gives them). An endpoint belongs to one person at a time.
type PushSubscription struct {
	ID        int64     `json:"id"`
	UserID    string    `json:"user_id"`
	Endpoint  string    `json:"endpoint"`
	P256dh    string    `json:"p256dh"`
	Auth      string    `json:"auth"`
	CreatedAt time.Time `json:"created_at"`
}

// PushQueries are the store operations of the push channel.
type PushQueries interface {
	// PushSubscriptionSave stores s for s.UserID, or, when its endpoint is
	// known already (a browser subscribing again, or now for another
	// person), replaces that one's keys and owner. It sets s.ID. An unknown
	// user is a *FieldError on "user_id".
	PushSubscriptionSave(ctx context.Context, s *PushSubscription) error
	// PushSubscriptionDelete removes userID's subscription of endpoint;
	// ErrNotFound when there is none.
	PushSubscriptionDelete(ctx context.Context, userID, endpoint string) error
	// PushSubscriptionRemove removes the subscriptions of ids (a push
	// service said they are gone) and returns how many there were.
	PushSubscriptionRemove(ctx context.Context, ids []int64) (int, error)
	// PushSubscriptionList returns the subscriptions of the users, by id
	// (all of them when users is nil).
	PushSubscriptionList(ctx context.Context, users []string) ([]PushSubscription, error)
	// PushSubscriptionGet returns subscription id; ErrNotFound when it is
	// gone.
	PushSubscriptionGet(ctx context.Context, id int64) (*PushSubscription, error)
	// PushSubscriptionsByID returns those of ids that still exist, by id.
	PushSubscriptionsByID(ctx context.Context, ids []int64) ([]PushSubscription, error)
	// PushTargets returns, for the push notifications of an event, one
	// recipient per subscription of their person (Target: the
	// subscription's id), by user and subscription.
	PushTargets(ctx context.Context, eventID int64) ([]DeliveryRecipient, error)
	// PushNotificationIDs returns the ids of the push notifications of an
	// event for the users, by user.
	PushNotificationIDs(ctx context.Context, eventID int64, users []string) (map[string]int64, error)
}
