package cloche_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

const accountTypeDirectory = `{"users": [
  {"id": "e1", "email": "e1@example.org", "account_type": "entrepreneur", "groups": ["g"]},
  {"id": "e2", "email": "e2@example.org", "account_type": "entrepreneur", "active": false},
  {"id": "h1", "email": "h1@example.org", "account_type": "hybride"},
  {"id": "s1", "account_type": "equipe_appui"},
  {"id": "x1", "email": "x1@example.org", "account_type": "stagiaire", "active": false},
  {"id": "n1", "email": "n1@example.org"}
]}`

// A notify by account type reaches the active people of that type (and
// the hybride ones for entrepreneur and equipe_appui), in the app and by
// e-mail, joined with the other routes, and reports a type that reaches
// nobody.
func TestNotifyAccountType(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		if _, err := svc.ImportDirectory(ctx, strings.NewReader(accountTypeDirectory)); err != nil {
			t.Fatal(err)
		}
		if u, err := svc.User(ctx, "h1"); err != nil || u.AccountType != "hybride" {
			t.Fatalf("user h1: %+v, %v", u, err)
		}
		everyone := []string{"e1", "e2", "h1", "n1", "s1", "x1"}
		cases := []struct {
			name    string
			r       cloche.Recipients
			force   cloche.Channel
			users   []string
			missing []cloche.Unreachable
		}{
			{"entrepreneur", cloche.Recipients{AccountType: "entrepreneur"}, "", []string{"e1", "h1"}, nil},
			{"equipe_appui", cloche.Recipients{AccountType: "equipe_appui"}, "", []string{"h1", "s1"}, nil},
			{"all", cloche.Recipients{AccountType: "all"}, "", []string{"e1", "h1", "n1", "s1"}, nil},
			{"with other routes", cloche.Recipients{AccountType: "equipe_appui", GroupNames: []string{"g"}, UserIDs: []string{"h1"}}, "",
				[]string{"e1", "h1", "s1"}, nil},
			{"only inactive people", cloche.Recipients{AccountType: "stagiaire"}, "", nil,
				[]cloche.Unreachable{{Kind: "account_type", ID: "stagiaire", Reason: "no_active_member"}}},
			{"by e-mail", cloche.Recipients{AccountType: "equipe_appui"}, cloche.ChannelEmail, []string{"h1"},
				[]cloche.Unreachable{{Kind: "user", ID: "s1", Reason: "no_email"}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var opts []cloche.NotifyOption
				if tc.force != "" {
					opts = append(opts, cloche.ForceChannel(tc.force))
				}
				res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: tc.name}, tc.r, opts...)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				if tc.force == cloche.ChannelEmail {
					ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: res.EventID})
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range ds {
						got = append(got, d.UserID)
						if d.Reason != "account_type:equipe_appui" {
							t.Errorf("delivery reason %q", d.Reason)
						}
					}
					slices.Sort(got)
				} else {
					for _, id := range everyone {
						page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: id})
						if err != nil {
							t.Fatal(err)
						}
						for _, it := range page.Items {
							if it.EventID == res.EventID {
								got = append(got, id)
							}
						}
					}
				}
				if !slices.Equal(got, tc.users) || res.Reached[res.Channel] != len(tc.users) {
					t.Errorf("reached %v (%v), want %v", got, res.Reached, tc.users)
				}
				if !slices.Equal(res.Unreachable, tc.missing) {
					t.Errorf("unreachable %v, want %v", res.Unreachable, tc.missing)
				}
				ev, err := svc.Event(ctx, res.EventID)
				if err != nil || ev.Recipients.AccountType != tc.r.AccountType {
					t.Errorf("event recipients %+v, %v", ev, err)
				}
			})
		}
		// Bad input names the field.
		_, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "T"}, cloche.Recipients{AccountType: "a\x00b"})
		if fieldOf(err) != "account_type" {
			t.Errorf("bad account type: %v", err)
		}
		_, err = svc.UpsertUser(ctx, cloche.UserInput{ID: "z", AccountType: "all"})
		if fieldOf(err) != "account_type" {
			t.Errorf("a person of account type all: %v", err)
		}
	})
}
