package storetest

import (
	"slices"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// testAccountType: people carry an account type; a route by account type
// reaches the active people of that type (entrepreneur and equipe_appui
// with the hybride ones, "all" everybody), alone or with other routes,
// each once, with the preferences applied in the same statement.
func testAccountType(t *testing.T, s store.Store) {
	ctx := t.Context()
	users := []store.User{
		{ID: "ent", Active: true, AccountType: "entrepreneur", Groups: []string{"staff"}},
		{ID: "ent-off", Active: false, AccountType: "entrepreneur"},
		{ID: "hyb", Active: true, AccountType: "hybride", Email: "hyb@example.org"},
		{ID: "sup", Active: true, AccountType: "equipe_appui", Groups: []string{"staff"}},
		{ID: "odd", Active: true, AccountType: "stagiaire"},
		{ID: "none", Active: true},
	}
	for _, u := range users {
		must(t, s.UserUpsert(ctx, &u))
	}
	u, err := s.UserGet(ctx, "hyb")
	must(t, err)
	if u.AccountType != "hybride" {
		t.Errorf("UserGet account type %q, want hybride", u.AccountType)
	}
	page, err := s.UserList(ctx, &store.UserListParams{Limit: 10})
	must(t, err)
	for _, u := range page {
		if want := users[slices.IndexFunc(users, func(w store.User) bool { return w.ID == u.ID })].AccountType; u.AccountType != want {
			t.Errorf("UserList: %s has account type %q, want %q", u.ID, u.AccountType, want)
		}
	}
	found, err := s.UserSearch(ctx, &store.UserSearchParams{Query: "sup", Limit: 5})
	must(t, err)
	if len(found) == 0 || found[0].AccountType != "equipe_appui" {
		t.Errorf("UserSearch: %+v", found)
	}
	// Another upsert changes it; empty clears it.
	must(t, s.UserUpsert(ctx, &store.User{ID: "none", Active: true, AccountType: "stagiaire"}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "none", Active: true}))
	if u, _ := s.UserGet(ctx, "none"); u.AccountType != "" {
		t.Errorf("account type after clearing: %q", u.AccountType)
	}

	everyone := []string{"ent", "ent-off", "hyb", "none", "odd", "sup"}
	cases := []struct {
		name  string
		p     store.NotificationFanOutParams
		reach []string
	}{
		{"entrepreneur with hybride", store.NotificationFanOutParams{AccountType: "entrepreneur"}, []string{"ent", "hyb"}},
		{"equipe_appui with hybride", store.NotificationFanOutParams{AccountType: "equipe_appui"}, []string{"hyb", "sup"}},
		{"hybride alone", store.NotificationFanOutParams{AccountType: "hybride"}, []string{"hyb"}},
		{"a host's own type", store.NotificationFanOutParams{AccountType: "stagiaire"}, []string{"odd"}},
		{"nobody of that type", store.NotificationFanOutParams{AccountType: "ghost"}, nil},
		{"all: every active person", store.NotificationFanOutParams{AccountType: "all"}, []string{"ent", "hyb", "none", "odd", "sup"}},
		{"union with a group and a user, each once", store.NotificationFanOutParams{AccountType: "entrepreneur",
			GroupNames: []string{"staff"}, UserIDs: []string{"ent", "odd"}}, []string{"ent", "hyb", "odd", "sup"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(t, s, nil)
			tc.p.EventID, tc.p.Channel, tc.p.CreatedAt = e.ID, store.ChannelMessage, at(0)
			n, err := s.NotificationFanOut(ctx, &tc.p)
			must(t, err)
			got := reachedBy(t, s, e.ID, everyone)
			if n != len(tc.reach) || !slices.Equal(got, tc.reach) {
				t.Errorf("fan-out created %d for %v, want %v", n, got, tc.reach)
			}
		})
	}

	t.Run("contacts", func(t *testing.T) {
		cs, err := s.AccountTypeContacts(ctx, "entrepreneur")
		must(t, err)
		sameContacts(t, "AccountTypeContacts", cs, []store.Contact{{UserID: "ent", Active: true},
			{UserID: "hyb", Email: "hyb@example.org", Active: true}})
		cs, err = s.AccountTypeContactsAmong(ctx, "all", []string{"sup", "ent-off", "zed"})
		must(t, err)
		sameContacts(t, "AccountTypeContactsAmong", cs, []store.Contact{{UserID: "sup", Active: true}})
		if cs, err := s.AccountTypeContactsAmong(ctx, "all", nil); err != nil || len(cs) != 0 {
			t.Errorf("AccountTypeContactsAmong nobody = %v, %v", cs, err)
		}
		for typ, want := range map[string]bool{"entrepreneur": true, "equipe_appui": true, "all": true, "stagiaire": true, "ghost": false} {
			if got, err := s.AccountTypeActive(ctx, typ); err != nil || got != want {
				t.Errorf("AccountTypeActive(%q) = %v, %v; want %v", typ, got, err, want)
			}
		}
		must(t, s.UserUpsert(ctx, &store.User{ID: "odd", Active: false, AccountType: "stagiaire"}))
		if got, _ := s.AccountTypeActive(ctx, "stagiaire"); got {
			t.Error("AccountTypeActive of a type whose only person is inactive")
		}
	})

	t.Run("preferences apply", func(t *testing.T) {
		must(t, s.PreferenceReplace(ctx, "hyb", []store.Preference{pref(store.ScopeType, "task:status:valid", store.ChannelMessage, false)}))
		must(t, s.PreferenceReplace(ctx, "sup", []store.Preference{pref(store.ScopeType, "task:status:valid", store.ChannelAlert, true)}))
		for _, tc := range []struct {
			name     string
			fallback bool
			reach    []string
		}{
			{"on by default, less who turned it off", true, []string{"ent", "none", "sup"}},
			{"off by default: only who turned it on", false, nil},
		} {
			e := newEvent(t, s, nil)
			f := &store.PreferenceFilter{EventID: e.ID, Key: "task:status:valid", Category: "task",
				Channel: store.ChannelMessage, Fallback: tc.fallback, Skips: true}
			n, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: e.ID, Channel: store.ChannelMessage,
				AccountType: "all", CreatedAt: at(0), Prefs: f})
			must(t, err)
			if got := reachedBy(t, s, e.ID, everyone); n != len(tc.reach) || !slices.Equal(got, tc.reach) {
				t.Errorf("%s: created %d for %v, want %v", tc.name, n, got, tc.reach)
			}
		}
		e := newEvent(t, s, nil)
		f := &store.PreferenceFilter{EventID: e.ID, Key: "task:status:valid", Category: "task", Channel: store.ChannelAlert}
		n, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: e.ID, Channel: store.ChannelAlert,
			AccountType: "equipe_appui", CreatedAt: at(0), Prefs: f})
		must(t, err)
		if got := reachedBy(t, s, e.ID, everyone); n != 1 || !slices.Equal(got, []string{"sup"}) {
			t.Errorf("alert turned on by sup: created %d for %v", n, got)
		}
	})
}

// reachedBy returns who among users has a notification of event id.
func reachedBy(t *testing.T, s store.Store, eventID int64, users []string) []string {
	t.Helper()
	var got []string
	for _, u := range users {
		for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
			if it.EventID == eventID {
				got = append(got, u)
			}
		}
	}
	return got
}
