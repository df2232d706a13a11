package cloche_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/push/pushtest"
)

const pushSubject = "mailto:ops@cloche.test"

// TestPushDelivery sends pushes through a push service run by the test,
// which decrypts each with its subscription's own keys and checks its
// VAPID token: one push per browser; 404 and 410 remove the subscription;
// 429 waits for Retry-After, 5xx is retried.
func TestPushDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var clock atomic.Int64
		clock.Store(time.Now().UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		cfg := testConfig(url)
		cfg.Push.Subject = pushSubject
		cfg.Push.AllowLoopback = true
		svc := open(t, cfg, cloche.WithClock(now))
		loadDirectory(t, svc)
		key, err := svc.PushPublicKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ps := pushtest.New(t, key, pushSubject)
		subscribe := func(user string) *pushtest.Subscription {
			s := ps.Subscribe()
			in := cloche.PushSubscriptionInput{Endpoint: s.Endpoint}
			in.Keys.P256dh, in.Keys.Auth = s.P256dh, s.Auth
			if _, err := svc.PushSubscribe(ctx, user, in); err != nil {
				t.Fatal(err)
			}
			return s
		}
		// Alice has two browsers; Bob's is gone (404), Carol's too (410);
		// Frank's push service is busy (429, then 503), then takes it.
		alice1, alice2 := subscribe("1"), subscribe("1")
		bob, carol, dan := subscribe("2"), subscribe("3"), subscribe("6")
		ps.AnswerWith(func(sub string, attempt int) pushtest.Answer {
			switch {
			case sub == bob.ID:
				return pushtest.Answer{Code: http.StatusNotFound}
			case sub == carol.ID:
				return pushtest.Answer{Code: http.StatusGone}
			case sub == dan.ID && attempt == 1:
				return pushtest.Answer{Code: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7200"}}}
			case sub == dan.ID && attempt == 2:
				return pushtest.Answer{Code: http.StatusServiceUnavailable}
			}
			return pushtest.Answer{Code: http.StatusCreated}
		})
		start(t, svc)

		res, err := svc.Notify(ctx, cloche.Notification{Key: "message:system", Title: "Maintenance tonight",
			Body: "The service stops at <b>22:00</b>; see <a href=\"https://status.example/7\">the status page</a>."},
			cloche.Recipients{UserIDs: []string{"1", "2", "3", "5", "6"}}, cloche.ForceChannel(cloche.ChannelPush))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reached[cloche.ChannelPush] != 5 {
			t.Errorf("reached %v, want 5 push notifications (Erin has no browser: no push)", res.Reached)
		}
		got := ps.Wait(t, "a push per browser", func(p []pushtest.Push) bool { return len(p) >= 5 })
		ids := map[string]int64{}
		for _, p := range got {
			if p.Err != nil {
				t.Errorf("push to %s: %v", p.Subscription, p.Err)
				continue
			}
			var pl push.Payload
			if err := json.Unmarshal(p.Payload, &pl); err != nil {
				t.Fatalf("payload %s: %v", p.Payload, err)
			}
			ids[p.Subscription] = pl.NotificationID
			want := push.Payload{Title: "Maintenance tonight", Body: "The service stops at 22:00; see the status page (https://status.example/7).",
				URL: "https://status.example/7", NotificationID: pl.NotificationID, Key: "message:system", Status: "caution"}
			if pl != want {
				t.Errorf("payload to %s:\n got %+v\nwant %+v", p.Subscription, pl, want)
			}
			// message:system is a caution type: urgent, kept a day.
			if p.TTL != "86400" || p.Urgency != "high" || p.Subject != pushSubject || p.Audience != ps.URL {
				t.Errorf("push to %s: TTL %s, Urgency %s, sub %s, aud %s", p.Subscription, p.TTL, p.Urgency, p.Subject, p.Audience)
			}
		}
		if ids[alice1.ID] == 0 || ids[alice1.ID] != ids[alice2.ID] {
			t.Errorf("Alice's two browsers got notifications %d and %d, want her one notification on both", ids[alice1.ID], ids[alice2.ID])
		}
		for _, u := range []struct {
			user string
			sub  *pushtest.Subscription
		}{{"1", alice1}, {"2", bob}} {
			it, err := svc.Notification(ctx, u.user, ids[u.sub.ID])
			if err != nil || it.Channel != cloche.ChannelPush {
				t.Errorf("user %s's notification %d: %+v %v", u.user, ids[u.sub.ID], it, err)
			}
		}

		deliveries := func() map[string]cloche.Delivery {
			ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{Channel: "push", EventID: res.EventID})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]cloche.Delivery{}
			for _, d := range ds {
				out[d.UserID] = d
			}
			return out
		}
		waitFor(t, time.Minute, "the outcomes", func() (bool, error) {
			ds := deliveries()
			return ds["2"].State == cloche.DeliveryFailed && ds["3"].State == cloche.DeliveryFailed && ds["6"].State == cloche.DeliveryRetrying, nil
		})
		ds := deliveries()
		if d := ds["6"]; d.LastCode != 429 || d.NextAttemptAt == nil || d.NextAttemptAt.Sub(*d.LastAttemptAt) < 2*time.Hour {
			t.Errorf("Frank's delivery %+v: want a retry two hours on (Retry-After: 7200)", d)
		}
		if d := ds["2"]; d.LastCode != 404 || d.Attempts != 1 {
			t.Errorf("Bob's delivery %+v: want failed, 404", d)
		}
		waitFor(t, time.Minute, "the gone subscriptions removed", func() (bool, error) {
			subs, err := svc.PushSubscriptions(ctx, []string{"2", "3"})
			return len(subs) == 0, err
		})
		if subs, _ := svc.PushSubscriptions(ctx, []string{"1"}); len(subs) != 2 {
			t.Errorf("Alice's browsers: %d, want 2 kept", len(subs))
		}

		// Two hours on, Frank's push is due: 503, then accepted.
		for attempt := 2; attempt <= 3; attempt++ {
			clock.Add(int64(3 * time.Hour))
			if err := svc.SendDuePushes(ctx); err != nil {
				t.Fatal(err)
			}
			want := attempt
			waitFor(t, time.Minute, "Frank's next attempt", func() (bool, error) {
				d := deliveries()["6"]
				return d.Attempts == want && d.State != cloche.DeliverySending, nil
			})
		}
		if d := deliveries()["6"]; d.State != cloche.DeliverySent || d.Attempts != 3 {
			t.Errorf("Frank's delivery %+v: want sent at the third attempt", d)
		}
		if n := len(ps.Pushes()); n != 7 {
			t.Errorf("the push service received %d pushes, want 7 (5, then Frank's two retries)", n)
		}
	})
}
