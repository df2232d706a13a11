package storetest

import (
	"slices"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// testPreferenceHolders: a fan-out looks up only the people who have
// settings; whoever clears theirs, sets them again, or is written again by
// a directory import is filtered as their settings say at that moment.
func testPreferenceHolders(t *testing.T, s store.Store) {
	ctx := t.Context()
	const key = "task:status:valid"
	for _, id := range []string{"ann", "ben"} {
		must(t, s.UserUpsert(ctx, &store.User{ID: id, Active: true, Groups: []string{"staff"}}))
	}
	mute := []store.Preference{pref(store.ScopeType, key, store.ChannelMessage, false)}
	steps := []struct {
		name  string
		do    func()
		reach []string
	}{
		{"muted", func() { must(t, s.PreferenceReplace(ctx, "ann", mute)) }, []string{"ben"}},
		{"imported again", func() {
			must(t, s.UserUpsert(ctx, &store.User{ID: "ann", Active: true, Groups: []string{"staff"}}))
		}, []string{"ben"}},
		{"cleared", func() { must(t, s.PreferenceReplace(ctx, "ann", nil)) }, []string{"ann", "ben"}},
		{"muted again", func() { must(t, s.PreferenceReplace(ctx, "ann", mute)) }, []string{"ben"}},
		{"another setting kept", func() {
			must(t, s.PreferenceReplace(ctx, "ann", append(slices.Clone(mute), pref(store.ScopeCategory, "expense", store.ChannelEmail, true))))
			must(t, s.PreferenceReplace(ctx, "ann", append(slices.Clone(mute), pref(store.ScopeCategory, "expense", store.ChannelEmail, false))))
		}, []string{"ben"}},
	}
	for _, st := range steps {
		st.do()
		e := newEvent(t, s, nil)
		f := &store.PreferenceFilter{EventID: e.ID, Key: key, Category: "task", Channel: store.ChannelMessage, Fallback: true, Skips: true}
		n, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{
			EventID: e.ID, Channel: store.ChannelMessage, GroupNames: []string{"staff"}, CreatedAt: at(0), Prefs: f})
		must(t, err)
		var got []string
		for _, u := range []string{"ann", "ben"} {
			for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
				if it.EventID == e.ID {
					got = append(got, u)
				}
			}
		}
		if n != len(st.reach) || !slices.Equal(got, st.reach) {
			t.Errorf("%s: reached %v (%d), want %v", st.name, got, n, st.reach)
		}
	}
}
