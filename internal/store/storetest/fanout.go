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
	reached := func(t *testing.T, eventID int64) []string {
		var got []string
		for _, u := range []string{"alice", "bob", "carol", "dan", "erin"} {
			for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
				if it.EventID == eventID {
					got = append(got, u)
				}
			}
		}
		return got
	}
	for _, tc := range cases {
		// Each case plain, then writing the outcome of an event inserted
		// published with its fan-out (an immediate notify's).
		for _, finish := range []bool{false, true} {
			name := tc.name
			if finish {
				name += ", with the event's outcome"
			}
			t.Run(name, func(t *testing.T) {
				published := at(0)
				e := newEvent(t, s, func(e *store.Event) {
					if finish {
						e.Status, e.PublishedAt = store.EventPublished, &published
					}
				})
				p := tc.p
				p.EventID, p.Channel, p.CreatedAt = e.ID, store.ChannelMessage, at(0)
				rep := &store.SendReport{UnknownUserIDs: []string{"zed"}}
				if finish {
					p.Finish = &store.EventFinishParams{ID: e.ID, Status: store.EventPublished, Reason: "why",
						Channel: store.ChannelMessage, Report: rep, At: at(2), InsertedPublished: true}
				}
				n, err := s.NotificationFanOut(ctx, &p)
				must(t, err)
				if n != len(tc.reach) {
					t.Errorf("fan-out created %d, want %d", n, len(tc.reach))
				}
				if got := reached(t, e.ID); !slices.Equal(got, tc.reach) {
					t.Errorf("reached %v, want %v", got, tc.reach)
				}
				if !finish {
					return
				}
				got, err := s.EventGet(ctx, e.ID)
				must(t, err)
				equal(t, "Counts", got.Counts, map[store.Channel]int{store.ChannelMessage: len(tc.reach)})
				equal(t, "Report", got.Report, rep)
				if got.Status != store.EventPublished || got.StatusReason != "why" || got.Channel != store.ChannelMessage {
					t.Errorf("EventGet = %+v, want published on message with the reason", got)
				}
				checkTimePtr(t, "PublishedAt", got.PublishedAt, ptr(norm(published)))
				checkTime(t, "UpdatedAt", got.UpdatedAt, norm(at(2)))
			})
		}
	}
	t.Run("outcome of an event not inserted published", func(t *testing.T) {
		e := newEvent(t, s, nil)
		p := &store.NotificationFanOutParams{EventID: e.ID, Channel: store.ChannelMessage, UserIDs: []string{"erin"}, CreatedAt: at(0),
			Finish: &store.EventFinishParams{ID: e.ID, Status: store.EventPublished, At: at(2), InsertedPublished: true}}
		_, err := s.NotificationFanOut(ctx, p)
		wantErr(t, err, store.ErrConflict)
		if got := reached(t, e.ID); len(got) != 0 {
			t.Errorf("a refused fan-out reached %v, want nobody", got)
		}
		p.Finish.InsertedPublished = false
		_, err = s.NotificationFanOut(ctx, p)
		wantErr(t, err, store.ErrInvalid)
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		if got.Status != store.EventPending {
			t.Errorf("status = %s, want pending", got.Status)
		}
	})
}
