package cloche_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// forEachBackend runs fn once on a fresh SQLite database and once on a fresh
// PostgreSQL schema.
func forEachBackend(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.URL(t))
		})
	}
}

// testConfig is the default config on url, with fast retries.
func testConfig(url string) cloche.Config {
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	cfg.TimeZone = "Europe/Paris"
	cfg.Check.RetryBase = cloche.Duration(20 * time.Millisecond)
	cfg.Check.MaxAttempts = 3
	cfg.Scheduler.PollInterval = cloche.Duration(100 * time.Millisecond)
	return cfg
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CLOCHE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// open opens a service on cfg, closed (and stopped, if started) at the end
// of the test.
func open(t *testing.T, cfg cloche.Config, opts ...cloche.Option) *cloche.Service {
	t.Helper()
	opts = append([]cloche.Option{cloche.WithLogger(testLogger(t))}, opts...)
	svc, err := cloche.Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// start runs the service's workers until the end of the test.
func start(t *testing.T, svc *cloche.Service) {
	t.Helper()
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// directory loads a small cooperative: managers, admins, members of two
// companies, followers.
//
//	1 alice   manager, admin        companies 10      follower -
//	2 bob     manager               companies 10, 20  follower 1
//	3 carol   member                companies 20      follower 2
//	4 dan     admin  (inactive)
//	5 erin    member (no e-mail)    companies 10      follower 4 (inactive)
//	6 frank   member                                   follower -
//	company 10 Atelier Nord: own address; company 20 Sud: none; 30 inactive
const directoryJSON = `{
 "companies": [
  {"id": 10, "name": "Atelier Nord", "email": "nord@example.org"},
  {"id": "20", "name": "Sud"},
  {"id": "30", "name": "Fermée", "email": "closed@example.org", "active": false}
 ],
 "users": [
  {"id": 1, "email": "alice@example.org", "name": "Alice", "locale": "fr", "groups": ["manager", "admin"], "companies": ["10"]},
  {"id": "2", "email": "bob@example.org", "name": "Bob", "locale": "en", "groups": ["manager"], "companies": [10, 20], "follower_id": 1},
  {"id": "3", "email": "carol@example.org", "name": "Carol", "groups": ["member"], "companies": ["20", "30"], "follower_id": "2"},
  {"id": "4", "email": "dan@example.org", "name": "Dan", "groups": ["admin"], "active": false},
  {"id": "5", "name": "Erin", "groups": ["member"], "companies": ["10"], "follower_id": "4"},
  {"id": "6", "email": "frank@example.org", "name": "Frank", "groups": ["member"]}
 ]
}`

func loadDirectory(t *testing.T, svc *cloche.Service) {
	t.Helper()
	if _, err := svc.ImportDirectory(context.Background(), stringsReader(directoryJSON)); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStatus waits until event id leaves pending and returns it.
func waitStatus(t *testing.T, svc *cloche.Service, id int64, within time.Duration) *cloche.Event {
	t.Helper()
	// Generous whatever the caller asks: the machine may be busy.
	within = max(within, 60*time.Second)
	var ev *cloche.Event
	waitFor(t, within, fmt.Sprintf("event %d to leave pending", id), func() (bool, error) {
		var err error
		ev, err = svc.Event(context.Background(), id)
		return err == nil && ev.Status != cloche.EventPending, err
	})
	return ev
}

func fieldOf(err error) string {
	var fe *cloche.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
