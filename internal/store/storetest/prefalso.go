package storetest

import (
	"maps"
	"slices"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// testPreferenceFanOutAlso: the main channel and the channels a few
// people's settings add go out in one fan-out, each to whom it should,
// counted per channel, whichever the routes; the main channel's skipped
// are recorded.
func testPreferenceFanOutAlso(t *testing.T, s store.Store) {
	ctx := t.Context()
	const key = "task:status:valid"
	for _, id := range []string{"ann", "ben", "cat", "dom", "eve", "fay"} {
		u := store.User{ID: id, Active: id != "eve"}
		if id != "fay" {
			u.Groups = []string{"staff"}
		}
		must(t, s.UserUpsert(ctx, &u))
	}
	must(t, s.PreferenceReplace(ctx, "ann", []store.Preference{
		pref(store.ScopeType, key, store.ChannelMessage, false),
		pref(store.ScopeType, key, store.ChannelAlert, true),
	}))
	must(t, s.PreferenceReplace(ctx, "ben", []store.Preference{
		pref(store.ScopeCategory, "task", store.ChannelAlert, true),
		pref(store.ScopeType, key, store.ChannelAlert, false),
	}))
	must(t, s.PreferenceReplace(ctx, "cat", []store.Preference{pref(store.ScopeCategory, "task", store.ChannelHeaderMessage, true)}))
	for _, id := range []string{"eve", "fay"} {
		must(t, s.PreferenceReplace(ctx, id, []store.Preference{pref(store.ScopeType, key, store.ChannelAlert, true)}))
	}
	type reach = map[store.Channel][]string
	cases := []struct {
		name   string
		routes store.NotificationFanOutParams
		want   reach
	}{
		{"group", store.NotificationFanOutParams{GroupNames: []string{"staff"}}, reach{
			store.ChannelMessage: {"ben", "cat", "dom"}, store.ChannelAlert: {"ann"}, store.ChannelHeaderMessage: {"cat"}}},
		{"user ids", store.NotificationFanOutParams{UserIDs: []string{"ann", "cat", "eve", "fay"}}, reach{
			store.ChannelMessage: {"cat", "fay"}, store.ChannelAlert: {"ann", "fay"}, store.ChannelHeaderMessage: {"cat"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(t, s, nil)
			filter := func(ch store.Channel, fallback, skips bool) *store.PreferenceFilter {
				return &store.PreferenceFilter{EventID: e.ID, Key: key, Category: "task", Channel: ch, Fallback: fallback, Skips: skips}
			}
			p := tc.routes
			p.EventID, p.Channel, p.CreatedAt = e.ID, store.ChannelMessage, at(0)
			p.Prefs = filter(store.ChannelMessage, true, true)
			p.Also = []*store.PreferenceFilter{filter(store.ChannelAlert, false, false), filter(store.ChannelHeaderMessage, false, false)}
			counts, err := s.NotificationFanOutChannels(ctx, &p)
			must(t, err)
			got := reach{}
			for _, u := range []string{"ann", "ben", "cat", "dom", "eve", "fay"} {
				for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
					if it.EventID == e.ID {
						got[it.Channel] = append(got[it.Channel], u)
					}
				}
			}
			wantCounts := map[store.Channel]int{}
			for ch, us := range tc.want {
				wantCounts[ch] = len(us)
			}
			if !maps.EqualFunc(got, tc.want, slices.Equal) || !maps.Equal(counts, wantCounts) {
				t.Errorf("reached %v (counts %v), want %v", got, counts, tc.want)
			}
			skips, err := s.PreferenceSkipList(ctx, e.ID, 0)
			must(t, err)
			if len(skips) != 1 || skips[0].UserID != "ann" || skips[0].Channel != store.ChannelMessage {
				t.Errorf("skipped %+v, want ann on message", skips)
			}
		})
	}
}
