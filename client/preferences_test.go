package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cloche/cloche/client"
	"github.com/cloche/cloche/internal/testdb"
)

// TestClientPreferences: a user's own preferences through a user token,
// anyone's and the organisation defaults through an API key, bad input
// reported with its field.
func TestClientPreferences(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			base, _, key := serve(t, b.URL(t))
			host, err := client.New(base, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := host.UpsertUser(ctx, client.UserInput{ID: "1", Email: "alice@example.org"}); err != nil {
				t.Fatal(err)
			}
			tok, err := host.UserToken(ctx, "1", 0)
			if err != nil {
				t.Fatal(err)
			}
			me, err := client.New(base, tok.Token)
			if err != nil {
				t.Fatal(err)
			}
			p, err := me.Me().SetPreferences(ctx, []client.PreferenceSetting{
				{Category: "task", Channel: "message", Enabled: true},
				{Type: "task:status:valid", Channel: "email", Enabled: false},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Effective {
				if e.Type == "task:status:valid" && !slices.Equal(e.Channels, []string{"message"}) {
					t.Errorf("task:status:valid reaches %v, want [message]", e.Channels)
				}
			}
			if got, err := host.Inbox("1").Preferences(ctx); err != nil || len(got.Settings) != 2 {
				t.Fatalf("host's view: %+v %v", got, err)
			}
			_, err = me.Me().SetPreferences(ctx, []client.PreferenceSetting{{Type: "message:system", Channel: "alert", Enabled: false}})
			var ce *client.Error
			if !errors.Is(err, client.ErrInvalid) || !errors.As(err, &ce) || ce.Field != "settings[0].enabled" {
				t.Errorf("mandatory off: %v", err)
			}
			// The rest of the document: time zone, quiet hours, unread delay.
			thirty := 30
			p, err = me.Me().PutPreferences(ctx, client.PreferencesDocument{
				PersonPreferences: client.PersonPreferences{TimeZone: "Asia/Kolkata",
					QuietHours:           &client.QuietHours{Start: "21:00", End: "08:00", Days: []string{"sunday"}},
					EmailIfUnreadMinutes: &thirty}})
			if err != nil || p.TimeZone != "Asia/Kolkata" || p.QuietHours == nil || p.QuietHours.End != "08:00" ||
				p.EmailIfUnreadMinutes == nil || *p.EmailIfUnreadMinutes != 30 || len(p.Settings) != 0 {
				t.Fatalf("PutPreferences: %+v %v", p, err)
			}
			_, err = host.Inbox("1").PutPreferences(ctx, client.PreferencesDocument{
				PersonPreferences: client.PersonPreferences{TimeZone: "Europe/Pari"}})
			if !errors.As(err, &ce) || ce.Field != "time_zone" || !strings.Contains(ce.Message, "did you mean Europe/Paris?") {
				t.Errorf("unknown zone: %v", err)
			}
			if got, _ := host.Inbox("1").Preferences(ctx); got.TimeZone != "Asia/Kolkata" {
				t.Errorf("saved anyway: %+v", got.PersonPreferences)
			}
			p, err = me.Me().PutPreferences(ctx, client.PreferencesDocument{PersonPreferences: client.PersonPreferences{
				Digest:          &client.DigestSchedule{Frequency: "daily", At: "08:00"},
				CategoryDigests: []client.CategoryDigest{{Category: "task", DigestSchedule: client.DigestSchedule{Frequency: "weekly", At: "09:00", Day: "friday"}}},
			}})
			if err != nil || p.Digest == nil || p.Digest.At != "08:00" || len(p.CategoryDigests) != 1 || p.CategoryDigests[0].Day != "friday" {
				t.Fatalf("digests: %+v %v", p, err)
			}
			_, err = me.Me().PutPreferences(ctx, client.PreferencesDocument{PersonPreferences: client.PersonPreferences{Digest: &client.DigestSchedule{Frequency: "daily", At: "8"}}})
			if !errors.Is(err, client.ErrInvalid) || !errors.As(err, &ce) || ce.Field != "digest.at" {
				t.Errorf("bad digest time: %v", err)
			}
			d, err := host.SetDefaultPreferences(ctx, []client.PreferenceSetting{{Category: "workshop", Channel: "email", Enabled: true}})
			if err != nil || len(d.Settings) != 1 {
				t.Fatalf("defaults: %+v %v", d, err)
			}
			if d, err = host.DefaultPreferences(ctx); err != nil || d.Settings[0].Category != "workshop" {
				t.Fatalf("defaults read back: %+v %v", d, err)
			}
			if _, err := host.SetDefaultPreferences(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
