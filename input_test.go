package cloche_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

// TestHostileStringsGoAPI: what the command line and the console pass on
// (flags, files, form fields) may hold U+0000 or bytes that are not UTF-8,
// which no JSON decoder cleans: the service refuses them itself, naming
// the field, on both backends alike.
func TestHostileStringsGoAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		ctx := context.Background()
		msg := cloche.Notification{Key: "message:internal", Title: "T"}
		to := cloche.Recipients{UserIDs: []string{"1"}}
		with := func(f func(n *cloche.Notification, r *cloche.Recipients)) error {
			n, r := msg, to
			r.UserIDs = append([]string(nil), to.UserIDs...)
			f(&n, &r)
			_, err := svc.Notify(ctx, n, r)
			return err
		}
		tests := []struct {
			name, field string
			err         error
		}{
			{"title not UTF-8", "title", with(func(n *cloche.Notification, _ *cloche.Recipients) { n.Title = "caf\xe9" })},
			{"body NUL", "body", with(func(n *cloche.Notification, _ *cloche.Recipients) { n.Body = "a\x00" })},
			{"group not UTF-8", "group_names[0]", with(func(_ *cloche.Notification, r *cloche.Recipients) { r.GroupNames = []string{"\xff"} })},
			{"context id", "context.id", with(func(n *cloche.Notification, _ *cloche.Recipients) {
				n.Context = &cloche.Context{Type: "invoice", ID: "4\x002"}
			})},
			{"user name", "name", func() error {
				_, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "9", Name: "\xc3"})
				return err
			}()},
			{"type label", "label", func() error {
				_, err := svc.SetType(ctx, cloche.NotificationType{Key: "k", Label: "a\x00", DefaultChannel: cloche.ChannelMessage})
				return err
			}()},
			{"type key", "key", func() error {
				_, err := svc.SetType(ctx, cloche.NotificationType{Key: strings.Repeat("k", 256), DefaultChannel: cloche.ChannelMessage})
				return err
			}()},
			{"user lookup", "id", func() error { _, err := svc.User(ctx, "1\x00"); return err }()},
			{"inbox", "user_id", func() error { _, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "\xff"}); return err }()},
			{"events filter", "key", func() error { _, err := svc.Events(ctx, cloche.EventFilter{Key: "\x00"}); return err }()},
			{"group members", "user_ids[0]", svc.SetGroupMembers(ctx, "g", []string{"\x00"})},
			{"token", "user_id", func() error { _, _, err := svc.UserToken(ctx, "1\x00", 0); return err }()},
			{"import", "users[0].name", func() error {
				_, err := svc.ImportDirectory(ctx, strings.NewReader(`{"users": [{"id": "7", "name": "`+"\xff"+`"}]}`))
				return err
			}()},
		}
		for _, tc := range tests {
			if !errors.Is(tc.err, cloche.ErrInvalid) || fieldOf(tc.err) != tc.field {
				t.Errorf("%s: error %v, want a FieldError on %q", tc.name, tc.err, tc.field)
			}
		}
		if evs, err := svc.Events(ctx, cloche.EventFilter{}); err != nil || len(evs) != 0 {
			t.Errorf("events %v, %v: want none stored", evs, err)
		}
	})
}
