package storetest

import (
	"slices"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func testNotificationFanOut(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "globex", Name: "Globex", Active: false}))
	for _, u := range []store.User{
		{ID: "alice", Active: true, Groups: []string{"manager", "admin"}, Companies: []string{"acme"}},
		{ID: "bob", Active: false, Groups: []string{"manager"}, Companies: []string{"acme"}},
		{ID: "carol", Active: true, Groups: []string{"member"}, Companies: []string{"globex"}},
		{ID: "dan", Active: true, Companies: []string{"acme"}},
		{ID: "erin", Active: true},
	} {
		must(t, s.UserUpsert(ctx, &u))
	}
	cases := []struct {
		name  string
		p     store.NotificationFanOutParams
		reach []string
	}{
		{"two groups, one user once", store.NotificationFanOutParams{GroupNames: []string{"manager", "admin"}}, []string{"alice"}},
		{"user ids: unknown and inactive skipped", store.NotificationFanOutParams{UserIDs: []string{"erin", "bob", "zed", "erin"}}, []string{"erin"}},
		{"active company members", store.NotificationFanOutParams{CompanyID: "acme"}, []string{"alice", "dan"}},
		{"inactive company reaches nobody", store.NotificationFanOutParams{CompanyID: "globex"}, nil},
		{"union of every route", store.NotificationFanOutParams{GroupNames: []string{"member"}, UserIDs: []string{"alice"}, CompanyID: "acme"},
			[]string{"alice", "carol", "dan"}},
		{"nothing", store.NotificationFanOutParams{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(t, s, nil)
			tc.p.EventID, tc.p.Channel, tc.p.CreatedAt = e.ID, store.ChannelMessage, at(0)
			n, err := s.NotificationFanOut(ctx, &tc.p)
			must(t, err)
			if n != len(tc.reach) {
				t.Errorf("fan-out created %d, want %d", n, len(tc.reach))
			}
			var got []string
			for _, u := range []string{"alice", "bob", "carol", "dan", "erin"} {
				for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
					if it.EventID == e.ID {
						got = append(got, u)
					}
				}
			}
			if !slices.Equal(got, tc.reach) {
				t.Errorf("reached %v, want %v", got, tc.reach)
			}
		})
	}
}
