package cloche_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

func TestAPIKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))

		k, key, err := svc.CreateAPIKey(ctx, " endi ")
		if err != nil {
			t.Fatal(err)
		}
		if k.Name != "endi" || !strings.HasPrefix(key, k.Prefix) || strings.Contains(k.Hash, key) {
			t.Errorf("created %+v, key %q", k, key)
		}
		got, err := svc.AuthenticateAPIKey(ctx, key)
		if err != nil || got.ID != k.ID {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if _, _, err := svc.CreateAPIKey(ctx, "endi"); !errors.Is(err, cloche.ErrConflict) {
			t.Errorf("second key named endi: %v, want ErrConflict", err)
		}
		if _, _, err := svc.CreateAPIKey(ctx, " "); fieldOf(err) != "name" {
			t.Errorf("empty name: %v", err)
		}
		// The key with its last character changed (to one it is not).
		altered := key[:len(key)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(key, "A")]
		for _, bad := range []string{"", "ck_nope", altered, "Bearer " + key} {
			if _, err := svc.AuthenticateAPIKey(ctx, bad); !errors.Is(err, cloche.ErrUnauthenticated) {
				t.Errorf("authenticate %q: %v, want ErrUnauthenticated", bad, err)
			}
		}
		keys, err := svc.APIKeys(ctx)
		if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil {
			t.Errorf("list: %+v %v, want one key with its last use", keys, err)
		}

		revoked, err := svc.RevokeAPIKey(ctx, "endi")
		if err != nil || revoked.ID != k.ID || revoked.RevokedAt == nil {
			t.Fatalf("revoke by name: %+v %v", revoked, err)
		}
		if _, err := svc.AuthenticateAPIKey(ctx, key); !errors.Is(err, cloche.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("revoked key: %v", err)
		}
		if _, err := svc.RevokeAPIKey(ctx, "endi"); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("revoke by the name of a revoked key: %v", err)
		}
		if _, err := svc.RevokeAPIKey(ctx, "1"); !errors.Is(err, cloche.ErrConflict) {
			t.Errorf("revoke by id again: %v", err)
		}
		k2, key2, err := svc.CreateAPIKey(ctx, "endi")
		if err != nil || k2.ID == k.ID {
			t.Errorf("new key with a revoked key's name: %+v %v", k2, err)
		}

		// Another process's revocation (the command line's) is heard
		// within a second: found keys are trusted that long.
		if _, err := svc.AuthenticateAPIKey(ctx, key2); err != nil {
			t.Fatal(err)
		}
		other := open(t, testConfig(url))
		if _, err := other.RevokeAPIKey(ctx, "endi"); err != nil {
			t.Fatal(err)
		}
		revokedAt := time.Now()
		for {
			_, err := svc.AuthenticateAPIKey(ctx, key2)
			if errors.Is(err, cloche.ErrUnauthenticated) {
				break
			}
			if err != nil || time.Since(revokedAt) > 5*time.Second {
				t.Fatalf("key revoked by another process still accepted after %v: %v", time.Since(revokedAt), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestUserTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)
		svc := open(t, cfg)
		loadDirectory(t, svc)

		tok, exp, err := svc.UserToken(ctx, "1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
			t.Errorf("default ttl: expires in %v, want an hour", d)
		}
		c, err := svc.VerifyUserToken(ctx, tok)
		if err != nil || c.UserID != "1" {
			t.Fatalf("verify: %+v %v", c, err)
		}
		if _, _, err := svc.UserToken(ctx, "404", 0); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("token for an unknown user: %v", err)
		}
		for _, ttl := range []time.Duration{time.Second, 25 * time.Hour} {
			if _, _, err := svc.UserToken(ctx, "1", ttl); fieldOf(err) != "ttl" {
				t.Errorf("ttl %v: %v", ttl, err)
			}
		}

		// The generated secret is in the database: another service on it
		// accepts the token.
		other := open(t, cfg)
		if _, err := other.VerifyUserToken(ctx, tok); err != nil {
			t.Errorf("another service on the same database: %v", err)
		}
		s1, _ := svc.TokenSecret(ctx)
		s2, _ := other.TokenSecret(ctx)
		if s1 != s2 || len(s1) != 64 {
			t.Errorf("secrets %q and %q", s1, s2)
		}
		// A configured secret wins, and tokens of the other secret fail.
		cfg.Auth.TokenSecret = strings.Repeat("k", 32)
		configured := open(t, cfg)
		if _, err := configured.VerifyUserToken(ctx, tok); !errors.Is(err, cloche.ErrUnauthenticated) {
			t.Errorf("token of another secret: %v", err)
		}
		if s, _ := configured.TokenSecret(ctx); s != cfg.Auth.TokenSecret {
			t.Errorf("configured secret %q", s)
		}
	})
}

func TestNotifyIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		n := cloche.Notification{Key: "message:internal", Title: "Once"}
		r := cloche.Recipients{UserIDs: []string{"1", "2"}}

		first, err := svc.Notify(ctx, n, r, cloche.Idempotent("key1", "abc", "fp"))
		if err != nil || first.Replayed {
			t.Fatalf("first: %+v %v", first, err)
		}
		again, err := svc.Notify(ctx, n, r, cloche.Idempotent("key1", "abc", "fp"))
		if err != nil || !again.Replayed || again.EventID != first.EventID || again.Reached[cloche.ChannelMessage] != 2 {
			t.Fatalf("retry: %+v %v, want the first result replayed", again, err)
		}
		if c := count(t, svc, "1", cloche.ChannelMessage, true); c != 1 {
			t.Errorf("user 1 has %d notifications, want 1", c)
		}
		_, err = svc.Notify(ctx, n, r, cloche.Idempotent("key1", "abc", "other"))
		if fieldOf(err) != "Idempotency-Key" {
			t.Errorf("same key, other request: %v", err)
		}
		other, err := svc.Notify(ctx, n, r, cloche.Idempotent("key2", "abc", "fp"))
		if err != nil || other.Replayed || other.EventID == first.EventID {
			t.Errorf("same key of another sender: %+v %v", other, err)
		}
		// A failed request keeps nothing: its retry runs.
		bad := cloche.Notification{Key: "no:such:type", Title: "x"}
		if _, err := svc.Notify(ctx, bad, r, cloche.Idempotent("key1", "bad", "fp")); fieldOf(err) != "key" {
			t.Fatalf("unknown key: %v", err)
		}
		if res, err := svc.Notify(ctx, n, r, cloche.Idempotent("key1", "bad", "fp2")); err != nil || res.Replayed {
			t.Errorf("key of a failed request reused: %+v %v", res, err)
		}
		// A retry whose until has passed since still gets its answer: the
		// retry goes to a service whose clock is two hours on.
		until := time.Now().Add(time.Hour)
		n2 := cloche.Notification{Key: "message:internal", Title: "Soon over", Until: &until}
		res, err := svc.Notify(ctx, n2, r, cloche.Idempotent("key1", "until", "fp"))
		if err != nil {
			t.Fatal(err)
		}
		later := open(t, testConfig(url), cloche.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) }))
		if again, err := later.Notify(ctx, n2, r, cloche.Idempotent("key1", "until", "fp")); err != nil || again.EventID != res.EventID {
			t.Errorf("retry after until: %+v %v", again, err)
		}
	})
}

// Concurrent notifies share commits on SQLite: each still gets its own
// result, the failing ones fail alone, and nothing is lost.
func TestConcurrentNotifies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		const n = 200
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			ids  = map[int64]bool{}
			errs int
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := "message:internal"
				if i%10 == 0 {
					key = "no:such:type"
				}
				res, err := svc.Notify(ctx, cloche.Notification{Key: key, Title: "concurrent"}, cloche.Recipients{UserIDs: []string{"6"}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case i%10 == 0 && fieldOf(err) == "key":
					errs++
				case i%10 != 0 && err == nil && res.Reached[cloche.ChannelMessage] == 1 && !ids[res.EventID]:
					ids[res.EventID] = true
				default:
					t.Errorf("notify %d: %+v %v", i, res, err)
				}
			}()
		}
		wg.Wait()
		if errs != n/10 || len(ids) != n-n/10 {
			t.Errorf("%d refused, %d events; want %d and %d", errs, len(ids), n/10, n-n/10)
		}
		if c := count(t, svc, "6", cloche.ChannelMessage, true); c != n-n/10 {
			t.Errorf("user 6 has %d notifications, want %d", c, n-n/10)
		}
		// A cancelled context before the batch takes the notify: nothing
		// is written, and the caller is told.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := svc.Notify(cctx, cloche.Notification{Key: "message:internal", Title: "never"},
			cloche.Recipients{UserIDs: []string{"6"}}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled notify: %v", err)
		}
	})
}

// A verified token is remembered, but not past its expiry.
func TestVerifiedTokenStillExpires(t *testing.T) {
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	svc := open(t, testConfig(testdb.SQLiteURL(t)), cloche.WithClock(clock))
	loadDirectory(t, svc)
	tok, _, err := svc.UserToken(ctx, "1", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := svc.VerifyUserToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	now.Add(int64(3 * time.Minute))
	if _, err := svc.VerifyUserToken(ctx, tok); !errors.Is(err, cloche.ErrUnauthenticated) {
		t.Errorf("expired token, verified before: %v", err)
	}
}
