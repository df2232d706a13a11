package cloche_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

func TestDirectoryImport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		u, err := svc.User(ctx, "2")
		if err != nil {
			t.Fatal(err)
		}
		if u.FollowerID != "1" || strings.Join(u.Companies, ",") != "10,20" || strings.Join(u.Groups, ",") != "manager" || u.Locale != "en" || !u.Active {
			t.Fatalf("user 2 = %+v", u)
		}
		if u, _ := svc.User(ctx, "3"); u.Locale != "fr" {
			t.Fatalf("default locale %q, want fr", u.Locale)
		}

		bad := []struct {
			name, file, field string
		}{
			{"bad email", `{"users": [{"id": "7"}, {"id": "8", "email": "not an address"}]}`, "users[1].email"},
			{"unknown company", `{"users": [{"id": "7", "companies": ["99"]}]}`, "users[0].companies"},
			{"unknown follower", `{"users": [{"id": "7", "follower_id": "99"}]}`, "users[0].follower_id"},
			{"duplicate id", `{"users": [{"id": "7"}, {"id": 7}]}`, "users[1].id"},
			{"bad locale", `{"users": [{"id": "7", "locale": "de"}]}`, "users[0].locale"},
			{"company without name", `{"companies": [{"id": "11"}]}`, "companies[0].name"},
			{"fractional id", `{"users": [{"id": 7.5}]}`, "file"},
			{"unknown field", `{"users": [{"id": "7", "mail": "x@y.z"}]}`, "file"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.ImportDirectory(ctx, strings.NewReader(tc.file))
				if !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != tc.field {
					t.Fatalf("err = %v (field %q), want invalid %s", err, fieldOf(err), tc.field)
				}
				if _, err := svc.User(ctx, "7"); !errors.Is(err, cloche.ErrNotFound) {
					t.Fatalf("a rejected file left user 7 behind: %v", err)
				}
			})
		}

		// Re-import is an upsert: groups are replaced, not added.
		if _, err := svc.ImportDirectory(ctx, strings.NewReader(`{"users": [{"id": "2", "groups": ["admin"], "follower_id": "3"}, {"id": "3"}]}`)); err != nil {
			t.Fatal(err)
		}
		if u, _ := svc.User(ctx, "2"); strings.Join(u.Groups, ",") != "admin" || u.FollowerID != "3" || len(u.Companies) != 0 {
			t.Fatalf("after re-import user 2 = %+v", u)
		}
		if err := svc.DeleteUser(ctx, "3"); err != nil {
			t.Fatal(err)
		}
		if u, _ := svc.User(ctx, "2"); u.FollowerID != "" {
			t.Fatalf("follower kept after the follower was deleted: %+v", u)
		}
		if err := svc.DeleteCompany(ctx, "20"); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteCompany(ctx, "20"); !errors.Is(err, cloche.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestTypes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		types, err := svc.Types(ctx)
		if err != nil || len(types) != 21 {
			t.Fatalf("seeded types: %d %v", len(types), err)
		}
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "invoice:late"}); fieldOf(err) != "default_channel" {
			t.Fatalf("new type without channel: %v", err)
		}
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "invoice:late", DefaultChannel: "sms"}); fieldOf(err) != "default_channel" {
			t.Fatalf("bad channel: %v", err)
		}
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "invoice:late", DefaultChannel: "message", StatusType: "weird"}); fieldOf(err) != "status_type" {
			t.Fatalf("bad status type: %v", err)
		}
		nt, err := svc.SetType(ctx, cloche.NotificationType{Key: "invoice:late", DefaultChannel: "header_message", StatusType: "caution"})
		if err != nil || nt.Label != "invoice:late" || nt.Builtin {
			t.Fatalf("create: %+v %v", nt, err)
		}
		res, err := svc.Notify(ctx, cloche.Notification{Key: "invoice:late", Title: "Late"}, cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil || res.Channel != cloche.ChannelHeaderMessage {
			t.Fatalf("notify with a host type: %+v %v", res, err)
		}
		// Updating only the channel keeps the rest; built-in types can be retuned.
		nt, err = svc.SetType(ctx, cloche.NotificationType{Key: "message:internal", DefaultChannel: "alert"})
		if err != nil || nt.Label != "Internal message" || nt.StatusType != "neutral" || !nt.Builtin || nt.DefaultChannel != "alert" {
			t.Fatalf("update: %+v %v", nt, err)
		}
		// Notify reads types through a cache: a change applies at once.
		for _, ch := range []cloche.Channel{cloche.ChannelAlert, cloche.ChannelMessage} {
			if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "invoice:late", DefaultChannel: ch}); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Notify(ctx, cloche.Notification{Key: "invoice:late", Title: "Late"}, cloche.Recipients{UserIDs: []string{"1"}})
			if err != nil || res.Channel != ch {
				t.Fatalf("notify after the type's channel became %s: %+v %v", ch, res, err)
			}
		}
		if err := svc.DeleteType(ctx, "invoice:late"); !errors.Is(err, cloche.ErrInUse) {
			t.Fatalf("delete of a used type: %v, want in use", err)
		}
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "unused", DefaultChannel: "email"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteType(ctx, "unused"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Type(ctx, "unused"); !errors.Is(err, cloche.ErrNotFound) {
			t.Fatalf("deleted type: %v", err)
		}
	})
}

// Notify's planning remembers the users it found: a change to the
// directory here applies to the next notify at once.
func TestNotifyFollowsDirectoryChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		notify := func() *cloche.Result {
			t.Helper()
			res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Hi"}, cloche.Recipients{UserIDs: []string{"42"}})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		for _, step := range []struct {
			name    string
			change  func() error
			reached int
			unknown bool
		}{
			{"unknown", func() error { return nil }, 0, true},
			{"created", func() error { _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "42"}); return err }, 1, false},
			{"made inactive", func() error {
				off := false
				_, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "42", Active: &off})
				return err
			}, 0, false},
			{"deleted", func() error { return svc.DeleteUser(ctx, "42") }, 0, true},
			{"imported", func() error {
				_, err := svc.ImportDirectory(ctx, strings.NewReader(`{"users": [{"id": "42"}]}`))
				return err
			}, 1, false},
		} {
			if err := step.change(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			res := notify()
			if res.Reached[cloche.ChannelMessage] != step.reached || (len(res.UnknownUserIDs) == 1) != step.unknown {
				t.Errorf("%s: reached %v, unknown %v; want %d reached, unknown %v", step.name, res.Reached, res.UnknownUserIDs, step.reached, step.unknown)
			}
		}
	})
}
