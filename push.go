package cloche

import (
	"context"
	"fmt"
	"sync"

	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/store"
)

// PushSubscription is one browser a person subscribed to browser push.
type PushSubscription = store.PushSubscription

// PushSubscriptionInput is what a browser's PushSubscription.toJSON()
// gives: the push service's endpoint and the browser's keys, base64url.
type PushSubscriptionInput struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// vapidSetting names the stored VAPID private key.
const vapidSetting = "push.vapid_private_key"

// pushState holds the VAPID keys once read (or made).
type pushState struct {
	mu   sync.Mutex
	keys *push.Keys
}

// PushKeys returns the VAPID key pair, generated and stored in the
// database at first use: every process on the database signs with it.
func (s *Service) PushKeys(ctx context.Context) (*push.Keys, error) {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	if s.push.keys != nil {
		return s.push.keys, nil
	}
	fresh, err := push.GenerateKeys()
	if err != nil {
		return nil, err
	}
	stored, err := s.store.SettingInit(ctx, vapidSetting, fresh.Private)
	if err != nil {
		return nil, wrap("push keys", err)
	}
	if stored == fresh.Private {
		s.logger.InfoContext(ctx, "generated the VAPID keys of browser push and stored them in the database (show the public key with `cloche push keys`)")
	}
	if s.push.keys, err = push.ParseKeys(stored); err != nil {
		return nil, err
	}
	return s.push.keys, nil
}

// PushPublicKey is the VAPID public key (base64url) browsers subscribe
// with.
func (s *Service) PushPublicKey(ctx context.Context) (string, error) {
	k, err := s.PushKeys(ctx)
	if err != nil {
		return "", err
	}
	return k.Public, nil
}

// PushConfigured reports whether browser push is sent (push.subject is
// set).
func (s *Service) PushConfigured() bool { return s.cfg.Push.Configured() }

// PushSubscribe records a browser of userID's. The same endpoint again
// replaces its keys (and its person, when another signed in on that
// browser). Bad input is a *FieldError on endpoint, keys.p256dh or
// keys.auth.
func (s *Service) PushSubscribe(ctx context.Context, userID string, in PushSubscriptionInput) (*PushSubscription, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return nil, err
	}
	if err := push.CheckSubscription(in.Endpoint, in.Keys.P256dh, in.Keys.Auth, s.cfg.Push.AllowLoopback); err != nil {
		return nil, err
	}
	sub := &store.PushSubscription{UserID: userID, Endpoint: in.Endpoint, P256dh: in.Keys.P256dh, Auth: in.Keys.Auth, CreatedAt: s.disp.Now()}
	if err := s.store.PushSubscriptionSave(ctx, sub); err != nil {
		return nil, wrap("push subscription", err)
	}
	return sub, nil
}

// PushUnsubscribe removes userID's subscription of endpoint; ErrNotFound
// when there is none.
func (s *Service) PushUnsubscribe(ctx context.Context, userID, endpoint string) error {
	if err := store.CheckID("user_id", userID); err != nil {
		return err
	}
	if endpoint == "" {
		return store.Invalid("endpoint", "is required")
	}
	return wrap(fmt.Sprintf("push subscription %q of user %q", endpoint, userID), s.store.PushSubscriptionDelete(ctx, userID, endpoint))
}

// PushSubscriptions lists the subscriptions of the users (every one when
// users is nil).
func (s *Service) PushSubscriptions(ctx context.Context, users []string) ([]PushSubscription, error) {
	subs, err := s.store.PushSubscriptionList(ctx, users)
	return subs, wrap("push subscriptions", err)
}

// SendDuePushes starts a job that sends whatever push is due now: for a
// clock moved by hand (tests) or an operator who wants it now.
func (s *Service) SendDuePushes(ctx context.Context) error {
	return wrap("send due pushes", s.outbound.Runner(store.OutboundPush).Kick(ctx))
}
