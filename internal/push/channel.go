package push

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cloche/cloche/internal/email"
	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
)

// BatchSize is how many pushes one claim of the outbound layer takes:
// more than e-mail's 500, so that a batch's claim, reads and record are
// fewer statements per push.
const BatchSize = 2000

// ChannelConfig configures the push channel.
type ChannelConfig struct {
	// Subject is the VAPID subject; empty: the channel is not ready
	// (pushes wait, as e-mail waits for a mail server).
	Subject     string
	Timeout     time.Duration
	Concurrency int
	// Keys returns the VAPID keys (kept in the database, made at first
	// use).
	Keys func(ctx context.Context) (*Keys, error)
}

// Channel is browser push as a channel of the outbound layer: it sends
// each claimed delivery (Target: a subscription's id) to its browser's
// push service, and removes the subscriptions that are gone.
type Channel struct {
	st     store.Store
	cfg    ChannelConfig
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	sender *Sender
}

// NewChannel returns the push channel.
func NewChannel(st store.Store, cfg ChannelConfig, logger *slog.Logger) *Channel {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Channel{st: st, cfg: cfg, logger: logger, now: time.Now}
}

// SetClock replaces time.Now (tests).
func (c *Channel) SetClock(now func() time.Time) { c.now = now }

// Name implements outbound.Channel.
func (c *Channel) Name() string { return store.OutboundPush }

// Ready implements outbound.Channel: pushes are sent once push.subject is
// set.
func (c *Channel) Ready() bool { return c.cfg.Subject != "" }

// WarnNotReady implements outbound.NotReadyWarner.
func (c *Channel) WarnNotReady(ctx context.Context) {
	c.logger.WarnContext(ctx, "browser push is not sent from this process: set push.subject (a mailto: address or an https: URL); push deliveries wait until then")
}

func (c *Channel) senderOf(ctx context.Context) (*Sender, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sender != nil {
		return c.sender, nil
	}
	keys, err := c.cfg.Keys(ctx)
	if err != nil {
		return nil, err
	}
	s, err := NewSender(keys, SenderOptions{Subject: c.cfg.Subject, Timeout: c.cfg.Timeout, Concurrency: c.cfg.Concurrency})
	if err != nil {
		return nil, err
	}
	c.sender = s
	return s, nil
}

// TargetsGone implements outbound.GoneHandler: the subscriptions the push
// service no longer knows are removed.
func (c *Channel) TargetsGone(ctx context.Context, ds []store.ClaimedDelivery) error {
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		if id, err := strconv.ParseInt(d.Target, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	n, err := c.st.PushSubscriptionRemove(ctx, ids)
	if err != nil {
		return fmt.Errorf("push: remove gone subscriptions: %w", err)
	}
	if n > 0 {
		c.logger.InfoContext(ctx, "removed push subscriptions their push service no longer knows", "count", n)
	}
	return nil
}

// Begin implements outbound.Channel.
func (c *Channel) Begin(context.Context) outbound.Job {
	return &job{c: c, events: map[int64]*eventInfo{}}
}

// eventInfo is what every push of an event shares.
type eventInfo struct {
	title, body, url, key string
	status                store.StatusType
	until                 *time.Time
}

type job struct {
	c      *Channel
	events map[int64]*eventInfo
}

func (j *job) End() {}

func (j *job) event(ctx context.Context, id int64) (*eventInfo, error) {
	if e, ok := j.events[id]; ok {
		return e, nil
	}
	ev, err := j.c.st.EventGet(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("push: event %d: %w", id, err)
	}
	status := store.StatusNeutral
	if t, err := j.c.st.TypeGet(ctx, ev.Key); err == nil {
		status = t.StatusType
	}
	body, link := email.DigestExcerpt(ev.Body)
	e := &eventInfo{title: ev.Title, body: body, url: link, key: ev.Key, status: status, until: ev.Until}
	j.events[id] = e
	return e, nil
}

// Send implements outbound.Job: one push per delivery, concurrently.
func (j *job) Send(ctx context.Context, b *outbound.Batch) ([]outbound.Outcome, error) {
	sender, err := j.c.senderOf(ctx)
	if err != nil {
		return nil, err
	}
	ds := b.Deliveries
	out := make([]outbound.Outcome, len(ds))
	ids := make([]int64, 0, len(ds))
	users := map[int64][]string{}
	for _, d := range ds {
		if id, err := strconv.ParseInt(d.Target, 10, 64); err == nil {
			ids = append(ids, id)
		}
		users[d.EventID] = append(users[d.EventID], d.UserID)
	}
	subs, err := j.c.st.PushSubscriptionsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("push: subscriptions: %w", err)
	}
	byID := make(map[string]*store.PushSubscription, len(subs))
	for i := range subs {
		byID[strconv.FormatInt(subs[i].ID, 10)] = &subs[i]
	}
	notes := map[int64]map[string]int64{}
	for ev, us := range users {
		if notes[ev], err = j.c.st.PushNotificationIDs(ctx, ev, us); err != nil {
			return nil, fmt.Errorf("push: notifications: %w", err)
		}
	}
	now := j.c.now()
	msgs := make([]Message, 0, len(ds))
	index := make([]int, 0, len(ds))
	for i, d := range ds {
		sub := byID[d.Target]
		nid := notes[d.EventID][d.UserID]
		switch {
		case sub == nil:
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: "the browser's subscription was removed before the push was sent"}
			continue
		case sub.UserID != d.UserID:
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: "the browser is now subscribed for another person"}
			continue
		case nid == 0:
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: "the notification no longer exists (purged)"}
			continue
		case !b.MayStart():
			out[i] = outbound.Outcome{Result: outbound.NotTried}
			continue
		}
		e, err := j.event(ctx, d.EventID)
		if err != nil {
			return nil, err
		}
		payload, err := Payload{Title: e.title, Body: e.body, URL: e.url, NotificationID: nid, Key: e.key, Status: string(e.status)}.Marshal()
		if err != nil {
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: err.Error()}
			continue
		}
		ttl, urgency := Policy(e.status, e.until, now)
		msgs = append(msgs, Message{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth, Payload: payload,
			TTL: ttl, Urgency: urgency, Topic: "n" + strconv.FormatInt(nid, 10)})
		index = append(index, i)
	}
	for k, o := range sender.Send(ctx, msgs) {
		r := outbound.Permanent
		switch o.Kind {
		case Sent:
			r = outbound.Sent
		case Temporary:
			r = outbound.Temporary
		case Gone:
			r = outbound.Gone
		}
		out[index[k]] = outbound.Outcome{Result: r, Code: o.Code, Message: o.Message, RetryAfter: o.RetryAfter}
	}
	return out, nil
}
