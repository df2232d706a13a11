package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func pref(kind store.ScopeKind, scope string, ch store.Channel, on bool) store.Preference {
	return store.Preference{Kind: kind, Scope: scope, Channel: ch, Enabled: on}
}

// testPreferences: settings of a person and of the organisation are
// replaced whole and read back in order; a person who does not exist
// has none; deleting a person deletes theirs; message:system is seeded
// mandatory and TypeUpsert keeps the flag.
func testPreferences(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "alice", Active: true}))
	if got, err := s.PreferenceList(ctx, "alice"); err != nil || len(got) != 0 {
		t.Fatalf("no settings yet: %v %v", got, err)
	}
	in := []store.Preference{
		pref(store.ScopeCategory, "task", store.ChannelMessage, true),
		pref(store.ScopeType, "task:status:valid", store.ChannelEmail, false),
		pref(store.ScopeCategory, "expense", store.ChannelAlert, true),
	}
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PreferenceReplace(ctx, "alice", in) }))
	got, err := s.PreferenceList(ctx, "alice")
	must(t, err)
	want := []string{"type task:status:valid email false", "category expense alert true", "category task message true"}
	if g := prefStrings(got); !slices.Equal(g, want) {
		t.Errorf("list %v, want %v", g, want)
	}
	for _, p := range got {
		if p.UpdatedAt.IsZero() || p.UpdatedAt.Location() != time.UTC || p.UserID != "alice" {
			t.Errorf("setting %+v: want an updated_at in UTC and the user id", p)
		}
	}
	// Replacing is whole: what is not named goes.
	must(t, s.PreferenceReplace(ctx, "alice", in[:1]))
	if got, _ := s.PreferenceList(ctx, "alice"); len(got) != 1 {
		t.Errorf("after replace: %v", prefStrings(got))
	}
	if err := s.PreferenceReplace(ctx, "zed", in); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	// The organisation defaults are apart.
	must(t, s.PreferenceReplace(ctx, "", in[1:]))
	if got, _ := s.PreferenceList(ctx, ""); len(got) != 2 {
		t.Errorf("defaults: %v", prefStrings(got))
	}
	if got, _ := s.PreferenceList(ctx, "alice"); len(got) != 1 {
		t.Errorf("alice's after defaults: %v", prefStrings(got))
	}
	must(t, s.UserDelete(ctx, "alice"))
	must(t, s.UserUpsert(ctx, &store.User{ID: "alice", Active: true}))
	if got, _ := s.PreferenceList(ctx, "alice"); len(got) != 0 {
		t.Errorf("a deleted user's settings stayed: %v", prefStrings(got))
	}

	sys, err := s.TypeGet(ctx, "message:system")
	must(t, err)
	if !sys.Mandatory {
		t.Error("message:system is not mandatory as seeded")
	}
	must(t, s.TypeSetMandatory(ctx, "message:internal", true))
	must(t, s.TypeUpsert(ctx, &store.NotificationType{Key: "message:internal", Label: "Internal", DefaultChannel: store.ChannelMessage, StatusType: store.StatusNeutral}))
	if ty, _ := s.TypeGet(ctx, "message:internal"); !ty.Mandatory {
		t.Error("TypeUpsert cleared mandatory")
	}
	if err := s.TypeSetMandatory(ctx, "nope:x", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown type: %v, want ErrNotFound", err)
	}
}

func prefStrings(ps []store.Preference) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s %s %s %t", p.Kind, p.Scope, p.Channel, p.Enabled)
	}
	return out
}

// testPreferenceFanOut: the fan-out keeps whom the settings give the
// channel (type over category, then the fallback), records the others as
// skipped when asked; PreferenceExceptions lists whom the settings set apart;
// the summary says which settings exist.
func testPreferenceFanOut(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"ann", "ben", "cat", "dom", "eve"} {
		must(t, s.UserUpsert(ctx, &store.User{ID: id, Active: id != "eve", Groups: []string{"staff"}}))
	}
	must(t, s.PreferenceReplace(ctx, "ann", []store.Preference{pref(store.ScopeType, "task:status:valid", store.ChannelMessage, false)}))
	must(t, s.PreferenceReplace(ctx, "ben", []store.Preference{
		pref(store.ScopeCategory, "task", store.ChannelMessage, false),
		pref(store.ScopeType, "task:status:valid", store.ChannelMessage, true),
	}))
	must(t, s.PreferenceReplace(ctx, "cat", []store.Preference{pref(store.ScopeCategory, "task", store.ChannelMessage, false)}))
	must(t, s.PreferenceReplace(ctx, "eve", []store.Preference{pref(store.ScopeCategory, "task", store.ChannelMessage, false)}))
	must(t, s.PreferenceReplace(ctx, "", []store.Preference{
		pref(store.ScopeCategory, "task", store.ChannelAlert, true),
		pref(store.ScopeType, "task:status:valid", store.ChannelAlert, false),
	}))

	sum, err := s.PreferenceSummary(ctx, "task:status:valid")
	must(t, err)
	if !maps.Equal(sum.Defaults, map[store.Channel]bool{store.ChannelAlert: false}) ||
		!maps.Equal(sum.UsersOn, map[store.Channel]bool{store.ChannelMessage: true}) ||
		!maps.Equal(sum.UsersOff, map[store.Channel]bool{store.ChannelMessage: true}) {
		t.Errorf("summary %+v", sum)
	}
	if sum, _ := s.PreferenceSummary(ctx, "task:status:paid"); !maps.Equal(sum.Defaults, map[store.Channel]bool{store.ChannelAlert: true}) {
		t.Errorf("summary of another type of the category: %+v", sum)
	}
	if sum, _ := s.PreferenceSummary(ctx, "workshop:reminder"); len(sum.Defaults)+len(sum.UsersOn)+len(sum.UsersOff) != 0 {
		t.Errorf("summary where nobody set anything: %+v", sum)
	}

	cases := []struct {
		name     string
		key      string
		fallback bool
		reach    []string
		skipped  []string
		// exceptions: whom their own settings give the opposite of the
		// fallback, reached or not (eve is inactive).
		exceptions []string
	}{
		{"type over category", "task:status:valid", true, []string{"ben", "dom"}, []string{"ann", "cat"}, []string{"ann", "cat", "eve"}},
		{"category alone", "task:status:paid", true, []string{"ann", "dom"}, []string{"ben", "cat"}, []string{"ben", "cat", "eve"}},
		{"fallback off: only who turned it on", "task:status:valid", false, []string{"ben"}, []string{"ann", "cat", "dom"}, []string{"ben"}},
		{"another category", "expense:status:paid", true, []string{"ann", "ben", "cat", "dom"}, nil, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(t, s, nil)
			f := &store.PreferenceFilter{EventID: e.ID, Key: tc.key, Category: store.Category(tc.key),
				Channel: store.ChannelMessage, Fallback: tc.fallback, Skips: true}
			n, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{
				EventID: e.ID, Channel: store.ChannelMessage, GroupNames: []string{"staff"}, CreatedAt: at(0), Prefs: f})
			must(t, err)
			var got []string
			for _, u := range []string{"ann", "ben", "cat", "dom", "eve"} {
				for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
					if it.EventID == e.ID {
						got = append(got, u)
					}
				}
			}
			if n != len(tc.reach) || !slices.Equal(got, tc.reach) {
				t.Errorf("reached %v (%d), want %v", got, n, tc.reach)
			}
			skips, err := s.PreferenceSkipList(ctx, e.ID, 0)
			must(t, err)
			var skipped []string
			for _, sk := range skips {
				if sk.Channel != store.ChannelMessage || sk.Reason != store.SkipReasonPreference {
					t.Errorf("skip %+v", sk)
				}
				skipped = append(skipped, sk.UserID)
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}

			ex, err := s.PreferenceExceptions(ctx, f)
			must(t, err)
			if !slices.Equal(ex, tc.exceptions) {
				t.Errorf("exceptions %v, want %v", ex, tc.exceptions)
			}
			// Skips recorded by hand, inside a transaction, once each.
			e2 := newEvent(t, s, nil)
			must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.PreferenceSkipInsert(ctx, e2.ID, store.ChannelEmail, []string{"dom", "ann", "dom"})
			}))
			if skips, _ := s.PreferenceSkipList(ctx, e2.ID, 0); len(skips) != 2 || skips[0].UserID != "ann" || skips[0].Channel != store.ChannelEmail {
				t.Errorf("skips recorded by hand: %+v", skips)
			}
		})
	}
}

// testPreferenceFanOutRoutes: starting from the exceptions, a fan-out
// still reaches only whom its routes reach, whichever the routes.
func testPreferenceFanOutRoutes(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "shut", Name: "Shut", Active: false}))
	for _, u := range []store.User{
		{ID: "ann", Active: true, Groups: []string{"staff"}},
		{ID: "ben", Active: true, Companies: []string{"acme"}},
		{ID: "cat", Active: true},
		{ID: "dom", Active: true, Companies: []string{"shut"}},
		{ID: "eve", Active: false, Groups: []string{"staff"}},
		{ID: "fay", Active: true},
	} {
		must(t, s.UserUpsert(ctx, &u))
		if u.ID != "fay" {
			must(t, s.PreferenceReplace(ctx, u.ID, []store.Preference{pref(store.ScopeType, "workshop:reminder", store.ChannelHeaderMessage, true)}))
		}
	}
	cases := []struct {
		name  string
		p     store.NotificationFanOutParams
		reach []string
	}{
		{"group", store.NotificationFanOutParams{GroupNames: []string{"staff", "board"}}, []string{"ann"}},
		{"user ids", store.NotificationFanOutParams{UserIDs: []string{"cat", "fay", "zed"}}, []string{"cat"}},
		{"company", store.NotificationFanOutParams{CompanyID: "acme"}, []string{"ben"}},
		{"inactive company", store.NotificationFanOutParams{CompanyID: "shut"}, nil},
		{"every route", store.NotificationFanOutParams{GroupNames: []string{"staff"}, UserIDs: []string{"cat"}, CompanyID: "acme"},
			[]string{"ann", "ben", "cat"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(t, s, nil)
			tc.p.EventID, tc.p.Channel, tc.p.CreatedAt = e.ID, store.ChannelHeaderMessage, at(0)
			// Off by default: only those who turned it on, and whom the
			// routes reach, get it.
			tc.p.Prefs = &store.PreferenceFilter{EventID: e.ID, Key: "workshop:reminder", Category: "workshop", Channel: store.ChannelHeaderMessage}
			n, err := s.NotificationFanOut(ctx, &tc.p)
			must(t, err)
			var got []string
			for _, u := range []string{"ann", "ben", "cat", "dom", "eve", "fay"} {
				for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
					if it.EventID == e.ID {
						got = append(got, u)
					}
				}
			}
			if n != len(tc.reach) || !slices.Equal(got, tc.reach) {
				t.Errorf("reached %v (%d), want %v", got, n, tc.reach)
			}
		})
	}
}

// testGroupContactsAmong: the active members of the groups among ids.
func testGroupContactsAmong(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, u := range []store.User{
		{ID: "ann", Active: true, Groups: []string{"staff"}},
		{ID: "ben", Active: true, Groups: []string{"staff", "board"}},
		{ID: "cat", Active: false, Groups: []string{"staff"}},
		{ID: "dom", Active: true, Groups: []string{"board"}},
	} {
		must(t, s.UserUpsert(ctx, &u))
	}
	cs, err := s.GroupContactsAmong(ctx, []string{"staff", "board"}, []string{"ben", "cat", "dom", "zed"})
	must(t, err)
	var got []string
	for _, c := range cs {
		got = append(got, c.UserID)
	}
	if !slices.Equal(got, []string{"ben", "dom"}) {
		t.Errorf("got %v, want [ben dom]", got)
	}
	if cs, err := s.GroupContactsAmong(ctx, []string{"staff"}, nil); err != nil || len(cs) != 0 {
		t.Errorf("among nobody: %v %v", cs, err)
	}
}
