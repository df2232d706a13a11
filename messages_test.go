package cloche_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cloche/cloche"
)

// TestErrorMessagesSpeakOfTheUsersObjects: every refusal the service
// answers reads the same on both backends and speaks of events, users,
// types and keys, never of the database, its driver or its constraints.
func TestErrorMessagesSpeakOfTheUsersObjects(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]map[string]string{} // backend -> case -> message
	forEachBackend(t, func(t *testing.T, url string) {
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		ctx := context.Background()
		res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "T", DueAt: ptr(svc.Now().Add(24 * 3600e9))},
			cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.CancelEvent(ctx, res.EventID); err != nil {
			t.Fatal(err)
		}
		sent, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "T"}, cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := svc.CreateAPIKey(ctx, "host")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RevokeAPIKey(ctx, "host"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			err  error
			want error  // sentinel
			text string // the whole message
		}{
			{"cancel twice", svc.CancelEvent(ctx, res.EventID), cloche.ErrConflict, "event 1 is already cancelled"},
			{"cancel published", svc.CancelEvent(ctx, sent.EventID), cloche.ErrConflict, "event 2 is already published"},
			{"cancel unknown", svc.CancelEvent(ctx, 999), cloche.ErrNotFound, "event 999 not found"},
			{"unknown event", func() error { _, err := svc.Event(ctx, 999); return err }(), cloche.ErrNotFound, "event 999 not found"},
			{"revoke twice", func() error { _, err := svc.RevokeAPIKey(ctx, itoa(k.ID)); return err }(), cloche.ErrConflict,
				"API key " + itoa(k.ID) + " (host) is already revoked"},
			{"delete used type", svc.DeleteType(ctx, "message:internal"), cloche.ErrInUse,
				`type "message:internal" is used by 2 events; it cannot be deleted`},
			{"delete unknown type", svc.DeleteType(ctx, "nope"), cloche.ErrNotFound, `type "nope" not found`},
			{"delete unknown user", svc.DeleteUser(ctx, "zz"), cloche.ErrNotFound, `user "zz" not found`},
			{"delete unknown company", svc.DeleteCompany(ctx, "zz"), cloche.ErrNotFound, `company "zz" not found`},
			{"delete unknown group", func() error { _, err := svc.DeleteGroup(ctx, "zz"); return err }(), cloche.ErrNotFound, `group "zz" has no members`},
			{"unknown follower", func() error {
				_, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "8", FollowerID: "zz"})
				return err
			}(), cloche.ErrInvalid, `follower_id: user "zz" does not exist`},
			{"unknown company", func() error {
				_, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "8", Companies: []cloche.ID{"zz"}})
				return err
			}(), cloche.ErrInvalid, `companies: company "zz" does not exist`},
			{"unknown member", svc.SetGroupMembers(ctx, "g", []string{"zz"}), cloche.ErrInvalid, `user_ids: unknown user "zz"`},
			{"unknown delivery", func() error { _, err := svc.RetryDelivery(ctx, 999); return err }(), cloche.ErrNotFound, "delivery 999 not found"},
		}
		msgs := map[string]string{}
		for _, tc := range tests {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
				continue
			}
			msg := tc.err.Error()
			msgs[tc.name] = msg
			if msg != tc.text {
				t.Errorf("%s: message %q, want %q", tc.name, msg, tc.text)
			}
			for _, leak := range []string{"sqlite", "postgres", "pgx", "SQLSTATE", "constraint", "conflict", "violat", "row"} {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(leak)) {
					t.Errorf("%s: message %q speaks of %q", tc.name, msg, leak)
				}
			}
		}
		mu.Lock()
		seen[svc.Backend()] = msgs
		mu.Unlock()
	})
	if a, b := seen["sqlite"], seen["postgres"]; a != nil && b != nil {
		for name, m := range a {
			if b[name] != m {
				t.Errorf("%s: sqlite says %q, postgres %q", name, m, b[name])
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
