package cloche_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// TestEventWithheld: an event's page says, per recipient who got nothing
// on a channel, why: a preference, quiet hours pending (until when), a
// digest (until it falls due), and in its report the inactive and those
// with no address. Both backends.
func TestEventWithheld(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clock := &offsetClock{}
		svc := open(t, testConfig(url), cloche.WithClock(clock.now))
		loadDirectory(t, svc)
		loc := svc.Location() // the organisation's zone: nobody here has one
		now := clock.now().In(loc)

		// alice: a daily digest in two hours; bob: quiet hours from an hour
		// ago to three hours from now (the organisation's zone);
		// carol: e-mail off for the type; dan inactive; erin no address;
		// frank gets it.
		daily := &cloche.DigestSchedule{Frequency: "daily", At: now.Add(2 * time.Hour).Format("15:04")}
		if _, err := svc.SetPreferences(ctx, "1", nil, cloche.WithDigests(&cloche.DigestChange{Digest: daily})); err != nil {
			t.Fatal(err)
		}
		quietEnd := now.Add(3 * time.Hour).Truncate(time.Minute)
		quiet := &cloche.QuietHours{Start: now.Add(-time.Hour).Format("15:04"), End: quietEnd.Format("15:04")}
		if _, err := svc.SetPreferences(ctx, "2", nil, cloche.WithQuietHours(quiet)); err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := svc.SetPreferences(ctx, "3", []cloche.PreferenceSetting{
			{Type: "task:status:valid", Channel: cloche.ChannelEmail, Enabled: &off}}); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Devis"},
			cloche.Recipients{UserIDs: []string{"1", "2", "3", "4", "5", "6"}})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := svc.Event(ctx, res.EventID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.EventWithheld(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.Preferences(ctx, "1")
		if err != nil || p.Digest == nil {
			t.Fatalf("alice's preferences: %+v %v", p, err)
		}
		digestAt := time.Date(now.Year(), now.Month(), now.Day(), now.Hour()+2, now.Minute(), 0, 0, loc)
		want := []struct {
			user, reason string
			until        time.Time
		}{
			{"3", cloche.WithheldPreference, time.Time{}},
			{"2", cloche.WithheldQuietHours, quietEnd},
			{"1", cloche.WithheldDigest, digestAt},
		}
		if len(got) != len(want) {
			t.Fatalf("withheld %+v, want %d rows", got, len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.UserID != w.user || g.Channel != cloche.ChannelEmail || g.Reason != w.reason {
				t.Errorf("withheld[%d] = %+v, want user %s on email for %s", i, g, w.user, w.reason)
			}
			switch {
			case w.until.IsZero() && g.NotBefore != nil:
				t.Errorf("withheld[%d] until %v, want none", i, g.NotBefore)
			case !w.until.IsZero() && (g.NotBefore == nil || !g.NotBefore.Equal(w.until)):
				t.Errorf("withheld[%d] until %v, want %v", i, g.NotBefore, w.until)
			}
		}
		// The inactive and those with no address are in the report.
		var reasons []string
		if ev.Report != nil {
			for _, u := range ev.Report.Unreachable {
				reasons = append(reasons, u.ID+":"+u.Reason)
			}
		}
		slices.Sort(reasons)
		if want := []string{"4:inactive", "5:no_email"}; !slices.Equal(reasons, want) {
			t.Errorf("report %v, want %v", reasons, want)
		}
		if ev.Counts[cloche.ChannelEmail] != 2 { // bob (held) and frank
			t.Errorf("counts %v, want 2 e-mails", ev.Counts)
		}
	})
}
