package httpapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// counts reads user's unread counts through the API.
func (h *harness) counts(t *testing.T, token string) countsJSON {
	t.Helper()
	var c countsJSON
	h.do(req{method: "GET", path: "/api/v1/me/counts", token: token}).want(t, http.StatusOK, &c)
	return c
}

// eventually polls cond until it holds, or fails after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Cached answers follow every write of this process at once: a reader
// never sees the state from before a write that returned.
func TestInboxCacheFollowsWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		cfg := testConfig(db)
		cfg.HTTP.InboxCache.TTL = cloche.Duration(time.Hour) // only invalidations refresh
		h := newHarness(t, cfg, Options{})
		h.loadDirectory()
		ctx := context.Background()
		alice := h.userToken("1")
		page := func() []map[string]any {
			var p struct {
				Items []map[string]any `json:"items"`
			}
			h.do(req{method: "GET", path: "/api/v1/me/notifications?channel=message", token: alice}).want(t, http.StatusOK, &p)
			return p.Items
		}
		var firstID int64
		for _, step := range []struct {
			name       string
			write      func(t *testing.T)
			unread     int
			items      int
			statusType string // of the newest item, when set
		}{
			{"nothing yet", func(*testing.T) {}, 0, 0, ""},
			{"notify her by id", func(t *testing.T) {
				h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "one", "user_ids": []string{"1"}}).
					want(t, http.StatusCreated, nil)
			}, 1, 1, "neutral"},
			{"notify her group", func(t *testing.T) {
				if _, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "two"},
					cloche.Recipients{GroupNames: []string{"manager"}}); err != nil {
					t.Fatal(err)
				}
			}, 2, 2, ""},
			{"notify her as a follower", func(t *testing.T) {
				if _, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "three"},
					cloche.Recipients{FollowerUserID: "2"}); err != nil {
					t.Fatal(err)
				}
			}, 3, 3, ""},
			{"mark one read through the API", func(t *testing.T) {
				h.do(req{method: "POST", path: "/api/v1/me/notifications/" + itoa(firstID) + "/read", token: alice}).
					want(t, http.StatusNoContent, nil)
			}, 2, 3, ""},
			{"mark it unread through Go", func(t *testing.T) {
				if err := h.svc.MarkUnread(ctx, "1", firstID); err != nil {
					t.Fatal(err)
				}
			}, 3, 3, ""},
			{"postpone it", func(t *testing.T) {
				if _, err := h.svc.Postpone(ctx, "1", firstID, nil); err != nil {
					t.Fatal(err)
				}
			}, 2, 2, ""},
			{"change the type's mark", func(t *testing.T) {
				if _, err := h.svc.SetType(ctx, cloche.NotificationType{Key: "message:internal", StatusType: cloche.StatusType("caution")}); err != nil {
					t.Fatal(err)
				}
			}, 2, 2, "caution"},
			{"read all", func(t *testing.T) {
				if _, err := h.svc.MarkAllRead(ctx, "1", ""); err != nil {
					t.Fatal(err)
				}
			}, 0, 2, ""},
		} {
			step.write(t)
			if got := h.counts(t, alice).Unread["message"]; got != step.unread {
				t.Fatalf("after %s: %d unread, want %d", step.name, got, step.unread)
			}
			items := page()
			if len(items) != step.items {
				t.Fatalf("after %s: %d items, want %d", step.name, len(items), step.items)
			}
			if step.statusType != "" && items[0]["status_type"] != step.statusType {
				t.Fatalf("after %s: status_type %v, want %s", step.name, items[0]["status_type"], step.statusType)
			}
			if firstID == 0 && len(items) > 0 {
				firstID = int64(items[0]["id"].(float64))
			}
		}
	})
}

// What another process writes reaches the cached answers: through the
// live feed for changes (any user) and for new notifications to users
// with a stream open here; within the TTL for the others.
func TestInboxCacheHearsOtherProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		cfg := testConfig(db)
		cfg.HTTP.InboxCache.TTL = cloche.Duration(time.Hour)
		cfg.Realtime.PollInterval = cloche.Duration(50 * time.Millisecond)
		cfg.HTTP.RateLimit.UserToken = 0 // eventually polls
		ctx := context.Background()
		h := newHarnessOf(t, cfg, func(svc *cloche.Service) Options { return Options{Streamer: svc.Streamer()} })
		h.loadDirectory()
		other, err := cloche.Open(ctx, cfg, cloche.WithLogger(testLogger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		if err := h.svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.svc.Stop(context.Background()) })

		// The hub listens once a stream hears the other process.
		notify := func(title string, users ...string) {
			t.Helper()
			if _, err := other.Notify(ctx, cloche.Notification{Key: "message:internal", Title: title},
				cloche.Recipients{UserIDs: users}); err != nil {
				t.Fatal(err)
			}
		}
		carol := openStream(t, h, h.userToken("3"))
		notify("warm-up", "3")
		carol.waitFor(t, "notification", "warm-up")

		// A new notification to a user with a stream open here is heard
		// before the stream tells of it.
		alice, bob := h.userToken("1"), h.userToken("2")
		stream := openStream(t, h, bob)
		if got := h.counts(t, bob).Total; got != 0 {
			t.Fatalf("bob starts with %d unread", got)
		}
		notify("while streaming", "1", "2")
		stream.waitFor(t, "notification", "while streaming")
		if got := h.counts(t, bob).Total; got != 1 {
			t.Fatalf("bob's counts %d after his stream told of the notification, want 1", got)
		}

		// A change by another process names its user: it is heard, stream
		// or not.
		if got := h.counts(t, alice).Total; got != 1 {
			t.Fatalf("alice has %d unread, want 1", got)
		}
		if _, err := other.MarkAllRead(ctx, "1", ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice's counts show the other process's read-all", func() bool {
			return h.counts(t, alice).Total == 0
		})
	})
}

// Without a stream, another process's new notification shows once the
// cached answer's TTL is over.
func TestInboxCacheTTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		cfg := testConfig(db)
		cfg.HTTP.InboxCache.TTL = cloche.Duration(200 * time.Millisecond)
		cfg.HTTP.RateLimit.UserToken = 0 // eventually polls
		ctx := context.Background()
		h := newHarness(t, cfg, Options{})
		h.loadDirectory()
		other, err := cloche.Open(ctx, cfg, cloche.WithLogger(testLogger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		carol := h.userToken("3")
		if got := h.counts(t, carol).Total; got != 0 {
			t.Fatalf("carol starts with %d unread", got)
		}
		if _, err := other.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "hi"},
			cloche.Recipients{UserIDs: []string{"3"}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "carol's cached counts expire", func() bool { return h.counts(t, carol).Total == 1 })
	})
}

// sseReader reads a user's event stream.
type sseReader struct {
	resp *http.Response
	br   *bufio.Reader
}

func openStream(t *testing.T, h *harness, token string) *sseReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, "GET", h.url+"/api/v1/me/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	s := &sseReader{resp: resp, br: bufio.NewReader(resp.Body)}
	s.waitFor(t, "counts", "") // the stream is subscribed
	return s
}

// waitFor reads events until one named event whose data holds text.
func (s *sseReader) waitFor(t *testing.T, event, text string) {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { s.resp.Body.Close() })
	defer timer.Stop()
	name := ""
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for a %s event with %q: %v", event, text, err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			if name == event && strings.Contains(data, text) && json.Valid([]byte(data)) {
				return
			}
		}
	}
}

// A first page big enough goes gzipped to clients that accept it, and
// plain to the others; both hold the same JSON.
func TestInboxGzip(t *testing.T) {
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{})
	h.loadDirectory()
	for i := range 20 {
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": fmt.Sprint("Invoice ", i, " paid"),
			"body": "The accountant validated it.", "user_ids": []string{"1"}}).want(t, http.StatusCreated, nil)
	}
	alice := h.userToken("1")
	get := func(path, acceptEncoding string) *response {
		t.Helper()
		return h.do(req{method: "GET", path: path, token: alice, header: map[string]string{"Accept-Encoding": acceptEncoding}})
	}
	plain := get("/api/v1/me/notifications", "identity")
	if plain.status != http.StatusOK || plain.header.Get("Content-Encoding") != "" || !json.Valid(plain.body) || len(plain.body) < 1024 {
		t.Fatalf("plain page: %d %v, %d bytes", plain.status, plain.header, len(plain.body))
	}
	for _, tc := range []struct {
		path, accept string
		gzipped      bool
	}{
		{"/api/v1/me/notifications", "gzip, deflate, br", true}, // a browser's
		{"/api/v1/me/notifications", "br;q=1.0, GZIP;q=0.5", true},
		{"/api/v1/me/notifications", "*", true},
		{"/api/v1/me/notifications", "gzip;q=0", false},
		{"/api/v1/me/notifications", "*;q=0, gzip", true},
		{"/api/v1/me/notifications", "gzip;q=0, *", false},
		{"/api/v1/me/notifications", "br", false},
		{"/api/v1/me/counts", "gzip", false}, // too small to pay
	} {
		r := get(tc.path, tc.accept)
		if got := r.header.Get("Content-Encoding") == "gzip"; got != tc.gzipped || !slices.Contains(r.header.Values("Vary"), "Accept-Encoding") {
			t.Errorf("%s with Accept-Encoding %q: Content-Encoding %q, Vary %q; want gzip %v", tc.path, tc.accept,
				r.header.Get("Content-Encoding"), r.header.Values("Vary"), tc.gzipped)
			continue
		}
		if !tc.gzipped || tc.path != "/api/v1/me/notifications" {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain.body) {
			t.Errorf("the gzipped page (%d bytes) is not the plain one (%d bytes): %v", len(r.body), len(plain.body), err)
		}
	}
}
