package cloche_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

func TestScheduledEventPublishedOnTimeToRecipientsOfDueTime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		start(t, svc)

		// Due in an hour, made due once the directory has changed.
		due := time.Now().Add(time.Hour)
		res, err := svc.Notify(ctx, cloche.Notification{Key: "workshop:reminder", Title: "Atelier", DueAt: &due},
			cloche.Recipients{GroupNames: []string{"member"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != cloche.EventPending || len(res.Reached) != 0 {
			t.Fatalf("result %+v, want pending and nobody reached yet", res)
		}
		// Frank leaves the group and Alice joins it before it falls due:
		// recipients are resolved at due time.
		if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "6", Email: "frank@example.org"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "1", Email: "alice@example.org", Groups: []string{"member"}}); err != nil {
			t.Fatal(err)
		}

		madeDue := time.Now()
		testdb.MakeDue(t, url, res.EventID)
		ev := waitStatus(t, svc, res.EventID, time.Minute)
		if ev.Status != cloche.EventPublished {
			t.Fatalf("status %s (%s), want published", ev.Status, ev.StatusReason)
		}
		// How late is measured by benchmarks, not here.
		if ev.PublishedAt.Before(madeDue.Truncate(time.Millisecond)) {
			t.Errorf("published at %s, before it was due (%s)", ev.PublishedAt, madeDue)
		}
		for id, want := range map[string]int{"1": 1, "3": 1, "5": 1, "6": 0} {
			page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: id})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != want {
				t.Errorf("user %s has %d notifications, want %d", id, len(page.Items), want)
			}
		}
	})
}

func TestScheduledEventNeverPublishedAfterUntil(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)
		sender := open(t, cfg)
		loadDirectory(t, sender)
		// Due in an hour (made due below): however slow the notify, the
		// event is scheduled.
		due := time.Now().Add(time.Hour)
		until := due.Add(time.Minute)
		res, err := sender.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Soon stale", DueAt: &due, Until: &until},
			cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		testdb.MakeDue(t, url, res.EventID)
		// The worker runs as if it had been down until past the until.
		worker := open(t, cfg, cloche.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) }))
		start(t, worker)
		ev := waitStatus(t, sender, res.EventID, 5*time.Second)
		if ev.Status != cloche.EventExpired {
			t.Fatalf("status %s, want expired", ev.Status)
		}
		page, err := sender.Inbox(ctx, cloche.InboxQuery{UserID: "1", All: true})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("inbox %v %v, want empty", page, err)
		}
	})
}

func TestCheckURL(t *testing.T) {
	type answer struct {
		status int
		body   string
	}
	cases := []struct {
		name    string
		answers []answer // one per attempt; the last repeats
		want    cloche.EventStatus
		reason  string
		calls   int
	}{
		{"2xx sends", []answer{{200, `{"send": true}`}}, cloche.EventPublished, "", 1},
		{"2xx without a verdict sends", []answer{{204, ``}}, cloche.EventPublished, "", 1},
		{"send false drops", []answer{{200, `{"send": false}`}}, cloche.EventDropped, "send", 1},
		{"404 drops", []answer{{404, ``}}, cloche.EventDropped, "404", 1},
		{"410 drops", []answer{{410, ``}}, cloche.EventDropped, "410", 1},
		{"500 then 200 retries and sends", []answer{{500, ``}, {200, `{}`}}, cloche.EventPublished, "", 2},
		{"always 503 fails after the attempts", []answer{{503, ``}}, cloche.EventFailed, "503", 3},
	}
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		start(t, svc)
		secret, err := svc.TokenSecret(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var calls, badSignatures atomic.Int32
				var gotEvent atomic.Value
				host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					raw, _ := io.ReadAll(r.Body)
					// Signed with the token secret (no check.signing_secret here),
					// as README says: HMAC-SHA256 of "timestamp.body".
					m := hmac.New(sha256.New, []byte(secret))
					m.Write([]byte(r.Header.Get("Cloche-Timestamp") + "." + string(raw)))
					if r.Header.Get("Cloche-Timestamp") == "" || r.Header.Get("Cloche-Signature") != "v1="+hex.EncodeToString(m.Sum(nil)) {
						badSignatures.Add(1)
					}
					var body struct {
						Event cloche.Event `json:"event"`
					}
					if err := json.Unmarshal(raw, &body); err == nil {
						gotEvent.Store(body.Event)
					}
					n := int(calls.Add(1))
					a := tc.answers[min(n, len(tc.answers))-1]
					w.WriteHeader(a.status)
					w.Write([]byte(a.body))
				}))
				defer host.Close()
				due := time.Now().Add(time.Hour)
				res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: tc.name, DueAt: &due,
					CheckURL: host.URL + "/still-due", Context: &cloche.Context{Type: "invoice", ID: tc.name}},
					cloche.Recipients{UserIDs: []string{"1"}})
				if err != nil {
					t.Fatal(err)
				}
				testdb.MakeDue(t, url, res.EventID)
				ev := waitStatus(t, svc, res.EventID, 10*time.Second)
				if ev.Status != tc.want || !strings.Contains(ev.StatusReason, tc.reason) {
					t.Errorf("status %s (%q), want %s mentioning %q", ev.Status, ev.StatusReason, tc.want, tc.reason)
				}
				if int(calls.Load()) != tc.calls {
					t.Errorf("check_url called %d times, want %d", calls.Load(), tc.calls)
				}
				if e, _ := gotEvent.Load().(cloche.Event); e.ID != res.EventID || e.ContextID != tc.name {
					t.Errorf("check_url received event %+v", e)
				}
				if n := badSignatures.Load(); n != 0 {
					t.Errorf("%d calls without a good Cloche-Signature", n)
				}
			})
		}
	})
}

func TestCancelAndReplaceByContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		later := time.Now().Add(time.Hour)
		notify := func(key, ctxID string) *cloche.Result {
			t.Helper()
			res, err := svc.Notify(ctx, cloche.Notification{Key: key, Title: "Reminder", DueAt: &later,
				Context: &cloche.Context{Type: "invoice", ID: ctxID}}, cloche.Recipients{UserIDs: []string{"1"}})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		first := notify("activity:reminder", "42")
		other := notify("workshop:reminder", "42")
		second := notify("activity:reminder", "42")
		if len(second.Replaced) != 1 || second.Replaced[0] != first.EventID {
			t.Fatalf("replaced %v, want [%d]", second.Replaced, first.EventID)
		}
		ev, _ := svc.Event(ctx, first.EventID)
		if ev.Status != cloche.EventCancelled || !strings.Contains(ev.StatusReason, "replaced") {
			t.Fatalf("first event %s %q, want cancelled as replaced", ev.Status, ev.StatusReason)
		}
		if ev, _ := svc.Event(ctx, other.EventID); ev.Status != cloche.EventPending {
			t.Fatalf("another key's event is %s, want still pending", ev.Status)
		}

		ids, err := svc.CancelEvents(ctx, cloche.Context{Type: "invoice", ID: "42"}, "")
		if err != nil || len(ids) != 2 {
			t.Fatalf("cancel by context: %v %v, want two events", ids, err)
		}
		pending, err := svc.Events(ctx, cloche.EventFilter{Status: cloche.EventPending})
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after cancel: %v %v", pending, err)
		}

		third := notify("activity:reminder", "43")
		if err := svc.CancelEvent(ctx, third.EventID); err != nil {
			t.Fatal(err)
		}
		if err := svc.CancelEvent(ctx, third.EventID); !errors.Is(err, cloche.ErrConflict) {
			t.Fatalf("second cancel: %v, want conflict", err)
		}
		if err := svc.CancelEvent(ctx, 9999); !errors.Is(err, cloche.ErrNotFound) {
			t.Fatalf("cancel of a missing event: %v, want not found", err)
		}
		byCtx, err := svc.Events(ctx, cloche.EventFilter{Context: &cloche.Context{Type: "invoice", ID: "42"}})
		if err != nil || len(byCtx) != 3 {
			t.Fatalf("events of invoice:42: %d %v, want 3", len(byCtx), err)
		}
	})
}

func TestCancelledEventIsNotPublished(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		start(t, svc)
		// Both due in an hour, made due once one is cancelled.
		due := time.Now().Add(time.Hour)
		cancelled, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "No", DueAt: &due},
			cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.CancelEvent(ctx, cancelled.EventID); err != nil {
			t.Fatal(err)
		}
		// A sentinel due later than the cancelled one: once it is
		// published, the cancelled one has had its chance.
		due2 := due.Add(100 * time.Millisecond)
		sentinel, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Yes", DueAt: &due2},
			cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		testdb.MakeDue(t, url, cancelled.EventID, sentinel.EventID)
		waitStatus(t, svc, sentinel.EventID, time.Minute)
		page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].Title != "Yes" {
			t.Fatalf("inbox %+v, want only the sentinel", page.Items)
		}
	})
}
