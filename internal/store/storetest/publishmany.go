package storetest

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// EventPublishMany reaches, for each event, whom a fan-out of its own
// would, and finishes it as EventFinish would; it leaves alone an event
// no longer pending. EventFinishMany finishes those still pending and
// says which.
func testPublishMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "globex", Name: "Globex", Active: false}))
	users := []string{"alice", "bob", "carol", "dan", "erin"}
	for _, u := range []store.User{
		{ID: "alice", Active: true, Groups: []string{"manager", "admin"}, Companies: []string{"acme"}},
		{ID: "bob", Active: false, Groups: []string{"manager"}, Companies: []string{"acme"}},
		{ID: "carol", Active: true, Groups: []string{"member"}, Companies: []string{"globex"}},
		{ID: "dan", Active: true, Companies: []string{"acme"}},
		{ID: "erin", Active: true},
	} {
		must(t, s.UserUpsert(ctx, &u))
	}
	expires := at(48 * time.Hour)
	cases := []struct {
		name  string
		fo    store.EventPublication
		reach []string
	}{
		{"two groups, one user once", store.EventPublication{GroupNames: []string{"manager", "admin"}}, []string{"alice"}},
		{"user ids: unknown and inactive skipped", store.EventPublication{UserIDs: []string{"erin", "bob", "zed", "erin"}, Channel: store.ChannelAlert}, []string{"erin"}},
		{"active company members", store.EventPublication{CompanyID: "acme", ExpiresAt: &expires}, []string{"alice", "dan"}},
		{"inactive company reaches nobody", store.EventPublication{CompanyID: "globex"}, nil},
		{"union of every route", store.EventPublication{GroupNames: []string{"member"}, UserIDs: []string{"alice"}, CompanyID: "acme"},
			[]string{"alice", "carol", "dan"}},
		{"nothing", store.EventPublication{Reason: "why not", Report: &store.SendReport{UnknownUserIDs: []string{"zed"}}}, nil},
	}
	var (
		p    store.EventPublishManyParams
		want = map[int64]int{}
	)
	for _, tc := range cases {
		e := newEvent(t, s, func(e *store.Event) { e.Title = tc.name })
		tc.fo.EventID = e.ID
		if tc.fo.Channel == "" {
			tc.fo.Channel = store.ChannelMessage
		}
		p.Events = append(p.Events, tc.fo)
		want[e.ID] = len(tc.reach)
	}
	done := newEvent(t, s, func(e *store.Event) { e.Title = "done already" })
	must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: done.ID, Status: store.EventCancelled, At: at(0)}))
	p.Events = append(p.Events, store.EventPublication{EventID: done.ID, Channel: store.ChannelMessage, UserIDs: []string{"erin"}},
		store.EventPublication{EventID: done.ID + 1000, Channel: store.ChannelMessage, UserIDs: []string{"erin"}})
	p.At = at(0)
	var got map[int64]int
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.EventPublishMany(ctx, &p)
		return err
	}))
	if !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v (the finished event and the missing one left out)", got, want)
	}
	for i, tc := range cases {
		id := p.Events[i].EventID
		var reached []string
		for _, u := range users {
			for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
				if it.EventID != id {
					continue
				}
				reached = append(reached, u)
				if it.Channel != p.Events[i].Channel {
					t.Errorf("%s: channel %s, want %s", tc.name, it.Channel, p.Events[i].Channel)
				}
				if (it.ExpiresAt == nil) != (tc.fo.ExpiresAt == nil) || (it.ExpiresAt != nil && !it.ExpiresAt.Equal(tc.fo.ExpiresAt.Truncate(time.Microsecond))) {
					t.Errorf("%s: expires %v, want %v", tc.name, it.ExpiresAt, tc.fo.ExpiresAt)
				}
			}
		}
		if !slices.Equal(reached, tc.reach) {
			t.Errorf("%s: reached %v, want %v", tc.name, reached, tc.reach)
		}
		e, err := s.EventGet(ctx, id)
		must(t, err)
		wantCounts := map[store.Channel]int{p.Events[i].Channel: len(tc.reach)}
		if e.Status != store.EventPublished || !maps.Equal(e.Counts, wantCounts) || e.PublishedAt == nil || !e.PublishedAt.Equal(at(0).Truncate(time.Microsecond)) ||
			e.Channel != p.Events[i].Channel || e.StatusReason != tc.fo.Reason {
			t.Errorf("%s: event %s %q %s %v published %v, want published on %s with %v", tc.name, e.Status, e.StatusReason, e.Channel, e.Counts, e.PublishedAt, p.Events[i].Channel, wantCounts)
		}
		if tc.fo.Report != nil && !reflect.DeepEqual(e.Report, tc.fo.Report) {
			t.Errorf("%s: report %+v, want %+v", tc.name, e.Report, tc.fo.Report)
		}
	}
	if e, err := s.EventGet(ctx, done.ID); err != nil || e.Status != store.EventCancelled {
		t.Errorf("the cancelled event: %v %v, want left cancelled", e, err)
	}
	for _, u := range []string{"erin"} {
		for _, it := range list(t, s, store.NotificationListParams{UserID: u, Now: at(1), Limit: 200}) {
			if it.EventID == done.ID {
				t.Errorf("the cancelled event was fanned out to %s", u)
			}
		}
	}
	// EventFinishMany: the pending ones finish, the others are left.
	e1, e2 := newEvent(t, s, nil), newEvent(t, s, nil)
	finished, err := s.EventFinishMany(ctx, []store.EventFinishParams{
		{ID: e1.ID, Status: store.EventExpired, Reason: "too late", At: at(2)},
		{ID: done.ID, Status: store.EventExpired, At: at(2)},
		{ID: e2.ID, Status: store.EventPublished, Channel: store.ChannelAlert, Counts: map[store.Channel]int{store.ChannelAlert: 0}, At: at(2)},
		{ID: done.ID + 1000, Status: store.EventExpired, At: at(2)},
	})
	must(t, err)
	slices.Sort(finished)
	sameIDs(t, "finished", finished, []int64{e1.ID, e2.ID})
	if e, err := s.EventGet(ctx, e1.ID); err != nil || e.Status != store.EventExpired || e.StatusReason != "too late" || e.PublishedAt != nil {
		t.Errorf("expired: %+v %v", e, err)
	}
	if e, err := s.EventGet(ctx, e2.ID); err != nil || e.Status != store.EventPublished || e.Channel != store.ChannelAlert || e.PublishedAt == nil {
		t.Errorf("published: %+v %v", e, err)
	}
	// What neither can do, both refuse the same way.
	e := newEvent(t, s, nil)
	for name, err := range map[string]error{
		"fan-out to e-mail": func() error {
			_, err := s.EventPublishMany(ctx, &store.EventPublishManyParams{Events: []store.EventPublication{{EventID: e.ID, Channel: store.ChannelEmail}}})
			return err
		}(),
		"fan-out of one event twice": func() error {
			_, err := s.EventPublishMany(ctx, &store.EventPublishManyParams{Events: []store.EventPublication{
				{EventID: e.ID, Channel: store.ChannelMessage}, {EventID: e.ID, Channel: store.ChannelAlert}}})
			return err
		}(),
		"finish as pending": func() error {
			_, err := s.EventFinishMany(ctx, []store.EventFinishParams{{ID: e.ID, Status: store.EventPending}})
			return err
		}(),
		"finish one event twice": func() error {
			_, err := s.EventFinishMany(ctx, []store.EventFinishParams{{ID: e.ID, Status: store.EventExpired}, {ID: e.ID, Status: store.EventPublished}})
			return err
		}(),
	} {
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if e, err := s.EventGet(ctx, e.ID); err != nil || e.Status != store.EventPending {
		t.Errorf("after the refusals: %v %v, want the event still pending", e, err)
	}
}
