package cloche_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cloche/cloche"
)

func on(ch cloche.Channel, typ, category string, enabled bool) cloche.PreferenceSetting {
	return cloche.PreferenceSetting{Type: typ, Category: category, Channel: ch, Enabled: &enabled}
}

// reachedBy returns, per channel, who an event reached: the users holding
// it in their inbox and the users it queued an e-mail for.
func reachedBy(t *testing.T, svc *cloche.Service, eventID int64) map[cloche.Channel][]string {
	t.Helper()
	ctx := context.Background()
	out := map[cloche.Channel][]string{}
	for _, id := range []string{"1", "2", "3", "4", "5", "6"} {
		for _, ch := range []cloche.Channel{cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert} {
			page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: id, Channel: ch})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if it.EventID == eventID {
					out[ch] = append(out[ch], id)
				}
			}
		}
	}
	ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		out[cloche.ChannelEmail] = append(out[cloche.ChannelEmail], d.UserID+d.CompanyID)
	}
	slices.Sort(out[cloche.ChannelEmail])
	return out
}

// TestPreferencesApplied follows the rules of README's "Preferences" table
// through real notifies: type over category, person over organisation,
// channels added and removed, mandatory types, forced channels, and the
// report of who got nothing because of a preference.
func TestPreferencesApplied(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)

		if _, err := svc.SetDefaultPreferences(ctx, []cloche.PreferenceSetting{
			on(cloche.ChannelMessage, "", "task", true),
			on(cloche.ChannelEmail, "", "supplier_invoice", false),
		}); err != nil {
			t.Fatal(err)
		}
		set := map[string][]cloche.PreferenceSetting{
			"1": {on(cloche.ChannelEmail, "task:status:valid", "", false)},
			"2": {on(cloche.ChannelMessage, "", "task", false), on(cloche.ChannelEmail, "supplier_invoice:status:valid", "", true)},
			"3": {on(cloche.ChannelEmail, "", "task", false), on(cloche.ChannelEmail, "task:status:valid", "", true)},
			"6": {on(cloche.ChannelHeaderMessage, "", "task", true), on(cloche.ChannelAlert, "", "message", false),
				on(cloche.ChannelMessage, "", "message", false)},
		}
		for id, s := range set {
			if _, err := svc.SetPreferences(ctx, id, s); err != nil {
				t.Fatalf("user %s: %v", id, err)
			}
		}
		everybody := cloche.Recipients{GroupNames: []string{"manager", "member"}} // 1, 2, 3, 5, 6
		cases := []struct {
			name  string
			key   string
			to    *cloche.Recipients
			force cloche.Channel
			want  map[cloche.Channel][]string
			skips []cloche.PreferenceSkip
		}{
			{name: "type over category, person over organisation", key: "task:status:valid",
				want: map[cloche.Channel][]string{
					cloche.ChannelEmail:         {"2", "3", "6"},
					cloche.ChannelMessage:       {"1", "3", "5", "6"},
					cloche.ChannelHeaderMessage: {"6"},
				},
				skips: []cloche.PreferenceSkip{{UserID: "1", Channel: cloche.ChannelEmail, Reason: "preference"}}},
			{name: "same category, another type", key: "task:status:invalid",
				want: map[cloche.Channel][]string{
					cloche.ChannelEmail:         {"1", "2", "6"},
					cloche.ChannelMessage:       {"1", "3", "5", "6"},
					cloche.ChannelHeaderMessage: {"6"},
				},
				skips: []cloche.PreferenceSkip{{UserID: "3", Channel: cloche.ChannelEmail, Reason: "preference"}}},
			{name: "forced channel ignores preferences", key: "task:status:valid", force: cloche.ChannelMessage,
				want: map[cloche.Channel][]string{cloche.ChannelMessage: {"1", "2", "3", "5", "6"}}},
			{name: "mandatory type keeps its channel", key: "message:system",
				want: map[cloche.Channel][]string{cloche.ChannelAlert: {"1", "2", "3", "5", "6"}}},
			{name: "category turned off", key: "message:internal",
				want:  map[cloche.Channel][]string{cloche.ChannelMessage: {"1", "2", "3", "5"}},
				skips: []cloche.PreferenceSkip{{UserID: "6", Channel: cloche.ChannelMessage, Reason: "preference"}}},
			{name: "organisation turns the default off, a person back on", key: "supplier_invoice:status:valid",
				to:   &cloche.Recipients{UserIDs: []string{"1", "2", "3"}, CompanyID: "10"},
				want: map[cloche.Channel][]string{cloche.ChannelEmail: {"2"}},
				skips: []cloche.PreferenceSkip{{UserID: "1", Channel: cloche.ChannelEmail, Reason: "preference"},
					{UserID: "3", Channel: cloche.ChannelEmail, Reason: "preference"}}},
			{name: "nobody set anything", key: "workshop:reminder",
				want: map[cloche.Channel][]string{cloche.ChannelMessage: {"1", "2", "3", "5", "6"}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var opts []cloche.NotifyOption
				if tc.force != "" {
					opts = append(opts, cloche.ForceChannel(tc.force))
				}
				to := everybody
				if tc.to != nil {
					to = *tc.to
				}
				res, err := svc.Notify(ctx, cloche.Notification{Key: tc.key, Title: tc.name}, to, opts...)
				if err != nil {
					t.Fatal(err)
				}
				got := reachedBy(t, svc, res.EventID)
				for _, ch := range []cloche.Channel{cloche.ChannelEmail, cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert} {
					if !slices.Equal(got[ch], tc.want[ch]) {
						t.Errorf("%s reached %v, want %v", ch, got[ch], tc.want[ch])
					}
					if res.Reached[ch] != len(tc.want[ch]) {
						t.Errorf("%s: result says %d reached, want %d", ch, res.Reached[ch], len(tc.want[ch]))
					}
				}
				skips, err := svc.PreferenceSkips(ctx, res.EventID, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(skips, tc.skips) && !(len(skips) == 0 && len(tc.skips) == 0) {
					t.Errorf("skips %v, want %v", skips, tc.skips)
				}
			})
		}

		// What the settings amount to, as shown to a person, agrees with
		// what the fan-out did.
		p, err := svc.Preferences(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Effective {
			want := map[string][]cloche.Channel{
				"task:status:valid":   {cloche.ChannelMessage},
				"task:status:invalid": {cloche.ChannelEmail, cloche.ChannelMessage},
				"message:system":      {cloche.ChannelAlert},
			}[e.Type]
			if want != nil && !slices.Equal(e.Channels, want) {
				t.Errorf("user 1, %s: effective %v, want %v", e.Type, e.Channels, want)
			}
		}
	})
}

// TestPreferencesBadInput: every bad setting is named, and nothing of the
// request is saved.
func TestPreferencesBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		good := on(cloche.ChannelEmail, "", "task", false)
		if _, err := svc.SetPreferences(ctx, "1", []cloche.PreferenceSetting{good}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			bad   cloche.PreferenceSetting
			field string
		}{
			{"unknown type", on(cloche.ChannelEmail, "nope:x", "", true), "settings[1].type"},
			{"unknown category", on(cloche.ChannelEmail, "", "nope", true), "settings[1].category"},
			{"unknown channel", on("sms", "task:status:valid", "", true), "settings[1].channel"},
			{"mandatory off", on(cloche.ChannelAlert, "message:system", "", false), "settings[1].enabled"},
			{"both type and category", on(cloche.ChannelEmail, "task:status:valid", "task", true), "settings[1]"},
			{"repeated", on(cloche.ChannelMessage, "message:internal", "", true), "settings[1]"},
			{"no enabled", cloche.PreferenceSetting{Type: "task:status:valid", Channel: cloche.ChannelEmail}, "settings[1].enabled"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				first := on(cloche.ChannelMessage, "message:internal", "", true)
				for _, set := range []func([]cloche.PreferenceSetting) error{
					func(s []cloche.PreferenceSetting) error { _, err := svc.SetPreferences(ctx, "1", s); return err },
					func(s []cloche.PreferenceSetting) error { _, err := svc.SetDefaultPreferences(ctx, s); return err },
				} {
					err := set([]cloche.PreferenceSetting{first, tc.bad})
					if !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != tc.field {
						t.Errorf("err %v (field %q), want invalid %s", err, fieldOf(err), tc.field)
					}
				}
				p, err := svc.Preferences(ctx, "1")
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Settings) != 1 || p.Settings[0].Category != "task" || *p.Settings[0].Enabled {
					t.Errorf("settings changed: %+v", p.Settings)
				}
				d, err := svc.DefaultPreferences(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Settings) != 0 {
					t.Errorf("defaults changed: %+v", d.Settings)
				}
			})
		}
		if _, err := svc.Preferences(ctx, "404"); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("unknown user: %v, want not found", err)
		}
		if _, err := svc.SetPreferences(ctx, "404", nil); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("set for unknown user: %v, want not found", err)
		}
		// An update changes what it names and keeps the rest; a nil
		// Enabled removes a setting.
		if _, err := svc.UpdatePreferences(ctx, "1", []cloche.PreferenceSetting{on(cloche.ChannelAlert, "", "expense", true)}); err != nil {
			t.Fatal(err)
		}
		p, err := svc.UpdatePreferences(ctx, "1", []cloche.PreferenceSetting{{Category: "task", Channel: cloche.ChannelEmail}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Settings) != 1 || p.Settings[0].Category != "expense" || p.Settings[0].Channel != cloche.ChannelAlert {
			t.Errorf("after updates: %+v", p.Settings)
		}
	})
}

// TestPreferencesSharedAddress: two people share one address; the one who
// turned e-mail off does not take it from the other, whichever of them
// the address would be credited to.
func TestPreferencesSharedAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		for _, id := range []string{"a", "b"} {
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: cloche.ID(id), Email: "desk@example.org", Groups: []string{"desk"}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, muted := range []string{"a", "b"} {
			if _, err := svc.SetPreferences(ctx, muted, []cloche.PreferenceSetting{on(cloche.ChannelEmail, "task:status:valid", "", false)}); err != nil {
				t.Fatal(err)
			}
			other := map[string]string{"a": "b", "b": "a"}[muted]
			if _, err := svc.SetPreferences(ctx, other, nil); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "shared"}, cloche.Recipients{GroupNames: []string{"desk"}})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: res.EventID})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 || ds[0].UserID != other || ds[0].Address != "desk@example.org" {
				t.Errorf("%s muted: deliveries %+v, want one to desk@example.org for %s", muted, ds, other)
			}
		}
	})
}
