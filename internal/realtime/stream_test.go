package realtime_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/realtime"
	"github.com/cloche/cloche/internal/testdb"
)

// A notification sent through the service reaches its recipient's stream
// on every in-app channel, with the counts after it; an e-mail does not.
func TestStreamReceivesNotifications(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), nil)
		c, counts := e.stream("1", nil)
		sameCounts(t, "at start", counts, 0, 0, 0)
		if c.retry.Load() < 3000 || c.retry.Load() >= 6000 {
			t.Errorf("retry hint %dms, want between 3s and 6s", c.retry.Load())
		}
		ctx := context.Background()
		cases := []struct {
			channel                cloche.Channel
			key                    string
			status                 cloche.StatusType
			message, header, alert int
		}{
			{cloche.ChannelMessage, "message:internal", "neutral", 1, 0, 0},
			{cloche.ChannelHeaderMessage, "message:internal", "neutral", 1, 1, 0},
			{cloche.ChannelAlert, "message:system", "caution", 1, 1, 1},
			{cloche.ChannelEmail, "message:internal", "neutral", 0, 0, 0}, // not on the stream
			{cloche.ChannelMessage, "workshop:reminder", "calendar", 2, 1, 1},
		}
		for _, tc := range cases {
			until := time.Now().Add(time.Hour).Truncate(time.Microsecond).UTC()
			res, err := e.service().Notify(ctx, cloche.Notification{Key: tc.key, Title: "On " + string(tc.channel), Body: "Body",
				Until: &until, Context: &cloche.Context{Type: "invoice", ID: "42"}},
				cloche.Recipients{UserIDs: []string{"1"}}, cloche.ForceChannel(tc.channel))
			if err != nil {
				t.Fatal(err)
			}
			if tc.channel == cloche.ChannelEmail {
				continue
			}
			it, _ := c.item(t)
			if it.EventID != res.EventID || it.UserID != "1" || it.Channel != tc.channel || it.Key != tc.key ||
				it.StatusType != tc.status || it.Title != "On "+string(tc.channel) || it.Body != "Body" ||
				it.ContextType != "invoice" || it.ContextID != "42" || it.ReadAt != nil ||
				it.ExpiresAt == nil || !it.ExpiresAt.Equal(until) || it.CreatedAt.IsZero() || !it.VisibleAt.Equal(it.CreatedAt) {
				t.Errorf("item %+v, want event %d's on %s", it, res.EventID, tc.channel)
			}
			c.expectCounts(t, tc.message, tc.header, tc.alert)
		}
	})
}

// A user's stream carries that user's notifications and changes, never
// another's.
func TestStreamCarriesOnlyItsUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), nil)
		one, _ := e.stream("1", nil)
		two, _ := e.stream("2", nil)
		e.notify("for two", "2")
		e.notify("for the team", "g:team")
		e.notify("for one", "1")
		for _, tc := range []struct {
			c    *sseClient
			user string
			want []string
		}{{one, "1", []string{"for the team", "for one"}}, {two, "2", []string{"for two", "for the team"}}} {
			for _, title := range tc.want {
				it, _ := tc.c.item(t)
				if it.Title != title || it.UserID != tc.user {
					t.Errorf("user %s's stream has %q of user %s, want %q", tc.user, it.Title, it.UserID, title)
				}
			}
			tc.c.expectCounts(t, 2, 0, 0)
		}
		// User 2 reads: user 1's stream hears nothing of it; its next event
		// is its own.
		page, err := e.service().Inbox(context.Background(), cloche.InboxQuery{UserID: "2"})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("user 2's inbox: %v, %v", page, err)
		}
		if _, err := e.service().MarkAllRead(context.Background(), "2", ""); err != nil {
			t.Fatal(err)
		}
		if change := two.change(t); change.UserID != "2" || change.Kind != "read_all" || change.Count != 2 {
			t.Errorf("user 2's change %+v", change)
		}
		two.expectCounts(t, 0, 0, 0)
		e.notify("for one again", "1")
		if it, _ := one.item(t); it.Title != "for one again" {
			t.Errorf("user 1's stream has %q, want its own next notification", it.Title)
		}
		one.expectCounts(t, 3, 0, 0)
	})
}

// Each change by the recipient reaches the stream, with the counts after
// it.
func TestStreamCarriesChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), nil)
		c, _ := e.stream("1", nil)
		ctx := context.Background()
		svc := e.service()
		var ids []int64
		for _, title := range []string{"a", "b", "c"} {
			e.notify(title, "1")
			it, _ := c.item(t)
			ids = append(ids, it.ID)
		}
		later := time.Now().Add(48 * time.Hour).Truncate(time.Microsecond).UTC()
		cases := []struct {
			name    string
			do      func() error
			kind    string
			id      int64
			count   int
			message int
		}{
			{"read", func() error { return svc.MarkRead(ctx, "1", ids[0]) }, "read", ids[0], 0, 2},
			{"unread", func() error { return svc.MarkUnread(ctx, "1", ids[0]) }, "unread", ids[0], 0, 3},
			{"postpone", func() error { _, err := svc.Postpone(ctx, "1", ids[1], &later); return err }, "postponed", ids[1], 0, 2},
			{"read all", func() error { _, err := svc.MarkAllRead(ctx, "1", cloche.ChannelMessage); return err }, "read_all", 0, 2, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.do(); err != nil {
					t.Fatal(err)
				}
				change := c.change(t)
				if string(change.Kind) != tc.kind || change.NotificationID != tc.id || change.Count != tc.count || change.UserID != "1" {
					t.Errorf("change %+v, want %s of %d", change, tc.kind, tc.id)
				}
				if tc.kind == "postponed" && !change.At.Equal(later) {
					t.Errorf("postponed until %v, want %v", change.At, later)
				}
				if tc.kind != "read_all" && change.Channel != cloche.ChannelMessage {
					t.Errorf("change on channel %q, want message", change.Channel)
				}
				c.expectCounts(t, tc.message, 0, 0)
			})
		}
		// A refused change says nothing.
		if err := svc.MarkRead(ctx, "2", ids[2]); !errors.Is(err, cloche.ErrNotFound) {
			t.Fatalf("user 2 marking user 1's notification: %v", err)
		}
		e.notify("d", "1")
		if it, _ := c.item(t); it.Title != "d" {
			t.Errorf("next event is %q, want d", it.Title)
		}
	})
}

// A client that reconnects with the id of its last event receives what it
// missed, through a restart of the service too, then what comes live.
func TestStreamResumes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		url := b.URL(t)
		cases := []struct {
			name    string
			restart bool
			header  bool
		}{
			{"Last-Event-ID header", false, true},
			{"last_event_id parameter", false, false},
			{"across a restart", true, true},
		}
		e := newEnv(t, url, nil)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				user := []string{"1", "2", "3"}[i]
				c, _ := e.stream(user, nil)
				e.notify("seen", user)
				seen, ev := c.item(t)
				c.close()

				e.notify("missed 1", user)
				e.notify("for someone else", "4")
				e.notify("missed 2", "g:team")
				if err := e.service().MarkRead(context.Background(), user, seen.ID); err != nil {
					t.Fatal(err)
				}
				if tc.restart {
					e.restart()
				}
				var again *sseClient
				if tc.header {
					again = dial(t, e.srv.URL+"/stream/"+user, http.Header{"Last-Event-Id": {ev.ID}})
				} else {
					again = dial(t, e.srv.URL+"/stream/"+user+"?last_event_id="+ev.ID, nil)
				}
				// The missed items and the read mark, in any order; on
				// PostgreSQL the seen item may come again (same id).
				missed := map[string]bool{}
				ids := map[int64]bool{}
				var read bool
				for !missed["missed 1"] || !missed["missed 2"] || !read {
					got := again.skipCounts(t)
					switch got.Event {
					case "notification":
						it, _ := decodeItem(t, got)
						if it.UserID != user {
							t.Fatalf("item of user %s on %s's stream", it.UserID, user)
						}
						if ids[it.ID] {
							t.Errorf("item %d came twice", it.ID)
						}
						ids[it.ID] = true
						if it.ID <= seen.ID {
							if b.Name == "sqlite" {
								t.Errorf("an item up to the cursor came again: %+v", it)
							}
							continue // PostgreSQL: from the resume window
						}
						missed[it.Title] = true
					case "change":
						var change cloche.NotificationChange
						if err := jsonUnmarshal(got.Data, &change); err != nil || change.NotificationID != seen.ID || change.Kind != "read" {
							t.Errorf("change %s, want the read mark of %d", got.Data, seen.ID)
						}
						read = true
					default:
						t.Fatalf("unexpected %s event %s", got.Event, got.Data)
					}
				}
				// Unread: missed 1, and the team's missed 2 of this case and
				// of the cases before.
				again.expectCounts(t, i+2, 0, 0)
				e.notify("live", user)
				if it, _ := again.item(t); it.Title != "live" {
					t.Errorf("live item after resuming: %q", it.Title)
				}
			})
		}
	})
}

func decodeItem(t testing.TB, ev sseEvent) (cloche.InboxItem, sseEvent) {
	t.Helper()
	var it cloche.InboxItem
	if err := jsonUnmarshal(ev.Data, &it); err != nil {
		t.Fatalf("notification data %q: %v", ev.Data, err)
	}
	return it, ev
}

// A last event id that cannot be resumed gets a reset, then the stream
// goes on.
func TestStreamResets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), func(cfg *cloche.Config) { cfg.ReadRetention = cloche.Duration(24 * time.Hour) })
		old := realtime.Cursor{NotificationID: 1, ChangeID: 1, Time: time.Now().Add(-25 * time.Hour)}
		for _, tc := range []struct{ last, reason string }{
			{"not-a-cursor", "invalid_cursor"},
			{"1.2", "invalid_cursor"},
			{old.String(), "expired"},
		} {
			c := dial(t, e.srv.URL+"/stream/1", http.Header{"Last-Event-Id": {tc.last}})
			var reset struct{ Reason string }
			c.expect(t, "reset", &reset)
			if reset.Reason != tc.reason {
				t.Errorf("Last-Event-ID %q: reset %q, want %q", tc.last, reset.Reason, tc.reason)
			}
			c.counts(t)
			e.notify("after reset", "1")
			c.item(t)
			c.close()
		}
	})
}

// Idle streams get keep-alive comments.
func TestStreamKeepAlive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), func(cfg *cloche.Config) { cfg.Realtime.KeepAlive = cloche.Duration(20 * time.Millisecond) })
		c, _ := e.stream("1", nil)
		for n := 0; n < 3; {
			select {
			case ev := <-c.events:
				switch {
				case ev.Comment == "keep-alive":
					n++
				case ev.Event != "counts": // counts may come again after a catch-up
					t.Fatalf("got %+v, want a keep-alive comment", ev)
				}
			case <-time.After(wait):
				t.Fatal("no keep-alive")
			}
		}
	})
}

// Stopping the service ends its streams; so does CloseStreams, which also
// refuses new ones until the service starts again.
func TestStreamEndsOnShutdown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), nil)
		ended := func(c *sseClient) {
			t.Helper()
			for {
				select {
				case _, ok := <-c.events:
					if !ok {
						if err := <-c.ended; err != io.EOF {
							t.Errorf("stream ended with %v, want EOF", err)
						}
						return
					}
				case <-time.After(wait):
					t.Fatal("the stream is still open")
				}
			}
		}
		refused := func() {
			t.Helper()
			_, resp := tryDial(t, e.srv.URL+"/stream/1", nil)
			if resp == nil {
				t.Fatal("a stream opened on a stopped service")
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"unavailable"`) {
				t.Errorf("stream of a stopped service: %s %s", resp.Status, body)
			}
		}
		streamer := e.service().Streamer()
		a, _ := e.stream("1", nil)
		b2, _ := e.stream("2", nil)
		if n := streamer.OpenStreams(); n != 2 {
			t.Errorf("OpenStreams = %d, want 2", n)
		}
		streamer.CloseStreams()
		ended(a)
		ended(b2)
		refused()
		waitOpen(t, streamer, 0)

		e.restart()
		c, _ := e.stream("1", nil)
		if err := e.service().Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		ended(c)
		refused()
	})
}

func waitOpen(t *testing.T, s cloche.Streamer, want int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for s.OpenStreams() != want {
		if time.Now().After(deadline) {
			t.Fatalf("OpenStreams = %d, want %d", s.OpenStreams(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Beyond max_streams, a stream is refused with 503; beyond a user's
// max_streams_per_user, that user's with 429; a user is needed.
func TestStreamLimits(t *testing.T) {
	e := newEnv(t, testdb.SQLiteURL(t), func(cfg *cloche.Config) {
		cfg.Realtime.MaxStreams = 3
		cfg.Realtime.MaxStreamsPerUser = 2
	})
	e.stream("1", nil)
	e.stream("1", nil)
	for _, tc := range []struct {
		user   string
		status int
	}{
		{"1", http.StatusTooManyRequests},    // user 1's third
		{"2", http.StatusOK},                 // the server's third
		{"3", http.StatusServiceUnavailable}, // the server's fourth
	} {
		if tc.status == http.StatusOK {
			e.stream(tc.user, nil)
			continue
		}
		_, resp := tryDial(t, e.srv.URL+"/stream/"+tc.user, nil)
		if resp == nil || resp.StatusCode != tc.status || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("stream of user %s: %v, want %d with Retry-After", tc.user, resp, tc.status)
		}
		resp.Body.Close()
	}
	rec := httptestRecorder()
	e.service().Streamer().ServeStream(rec, mustRequest(t), "")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("stream of no user: %d, want 401", rec.Code)
	}
}

// A server's read and write timeouts do not cut streams short.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, testdb.SQLiteURL(t), func(cfg *cloche.Config) { cfg.Realtime.KeepAlive = cloche.Duration(20 * time.Millisecond) })
	srv := httptest.NewUnstartedServer(e.srv.Config.Handler)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close) // after the client's close, registered later
	c := dial(t, srv.URL+"/stream/1", nil)
	c.counts(t)
	// Well past both timeouts: keep-alives still come.
	for n, deadline := 0, time.Now().Add(300*time.Millisecond); n < 3 || time.Now().Before(deadline); {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended after %d keep-alives: %v", n, <-c.ended)
			}
			if ev.Comment == "keep-alive" {
				n++
			}
		case <-time.After(wait):
			t.Fatal("no keep-alive")
		}
	}
	e.notify("still there", "1")
	if it, _ := c.item(t); it.Title != "still there" {
		t.Errorf("item %q", it.Title)
	}
}

// A stream served on the connection it took from net/http learns that its
// client hung up at its next keep-alive, and frees its place.
func TestStreamHungUpAtKeepAlive(t *testing.T) {
	e := newEnv(t, testdb.SQLiteURL(t), func(cfg *cloche.Config) { cfg.Realtime.KeepAlive = cloche.Duration(20 * time.Millisecond) })
	streamer := e.service().Streamer()
	a, _ := e.stream("1", nil)
	b, _ := e.stream("2", nil)
	waitOpen(t, streamer, 2)
	a.close()
	waitOpen(t, streamer, 1)
	// The other stream goes on.
	e.notify("still there", "2")
	if it, _ := b.item(t); it.Title != "still there" {
		t.Errorf("item %q", it.Title)
	}
}

// A user at max_streams_per_user whose client hung up may open a stream
// again at once: the hub looks at that user's streams before refusing one
// (keep-alives, which would tell, are an hour apart here).
func TestStreamHungUpFreesUserCap(t *testing.T) {
	e := newEnv(t, testdb.SQLiteURL(t), func(cfg *cloche.Config) { cfg.Realtime.MaxStreamsPerUser = 1 })
	streamer := e.service().Streamer()
	a, _ := e.stream("1", nil)
	a.close()
	deadline := time.Now().Add(wait)
	for {
		c, resp := tryDial(t, e.srv.URL+"/stream/1", nil)
		if resp == nil {
			c.counts(t)
			break
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("stream after the first hung up: %s", resp.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitOpen(t, streamer, 1)
	// The cap still holds for streams whose client is there.
	_, resp := tryDial(t, e.srv.URL+"/stream/1", nil)
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second open stream of user 1: %v, want 429", resp)
	}
	resp.Body.Close()
}

// EndStreams ends the open streams (also those served off their
// handlers) and goes on serving new ones.
func TestStreamEndStreams(t *testing.T) {
	e := newEnv(t, testdb.SQLiteURL(t), nil)
	streamer := e.service().Streamer()
	a, _ := e.stream("1", nil)
	streamer.(interface{ EndStreams() }).EndStreams()
	for {
		select {
		case _, ok := <-a.events:
			if ok {
				continue
			}
			if err := <-a.ended; err != io.EOF {
				t.Errorf("stream ended with %v, want EOF", err)
			}
		case <-time.After(wait):
			t.Fatal("the stream is still open")
		}
		break
	}
	waitOpen(t, streamer, 0)
	b, _ := e.stream("1", nil)
	e.notify("after", "1")
	if it, _ := b.item(t); it.Title != "after" {
		t.Errorf("item %q", it.Title)
	}
}
