package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOutMany reaches, for each event, whom a fan-out of its
// own would; it leaves alone an event no longer pending; EventFinishMany
// finishes those still pending and says which.
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
		fo    store.EventFanOut
		reach []string
	}{
		{"two groups, one user once", store.EventFanOut{GroupNames: []string{"manager", "admin"}}, []string{"alice"}},
		{"user ids: unknown and inactive skipped", store.EventFanOut{UserIDs: []string{"erin", "bob", "zed", "erin"}, Channel: store.ChannelAlert}, []string{"erin"}},
		{"active company members", store.EventFanOut{CompanyID: "acme", ExpiresAt: &expires}, []string{"alice", "dan"}},
		{"inactive company reaches nobody", store.EventFanOut{CompanyID: "globex"}, nil},
		{"union of every route", store.EventFanOut{GroupNames: []string{"member"}, UserIDs: []string{"alice"}, CompanyID: "acme"},
			[]string{"alice", "carol", "dan"}},
		{"nothing", store.EventFanOut{}, nil},
	}
	var (
		p    store.NotificationFanOutManyParams
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
	p.Events = append(p.Events, store.EventFanOut{EventID: done.ID, Channel: store.ChannelMessage, UserIDs: []string{"erin"}},
		store.EventFanOut{EventID: done.ID + 1000, Channel: store.ChannelMessage, UserIDs: []string{"erin"}})
	p.CreatedAt = at(0)
	var (
		got      map[int64]int
		finished []int64
	)
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if got, err = tx.NotificationFanOutMany(ctx, &p); err != nil {
			return err
		}
		var fs []store.EventFinishParams
		for _, fo := range p.Events {
			fs = append(fs, store.EventFinishParams{ID: fo.EventID, Status: store.EventPublished, Channel: fo.Channel,
				Counts: map[store.Channel]int{fo.Channel: got[fo.EventID]}, At: at(1)})
		}
		finished, err = tx.EventFinishMany(ctx, fs)
		return err
	}))
	if !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v (the finished event and the missing one left out)", got, want)
	}
	slices.Sort(finished)
	wantDone := slices.Sorted(maps.Keys(want))
	sameIDs(t, "finished", finished, wantDone)
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
		if e.Status != store.EventPublished || e.Counts[p.Events[i].Channel] != len(tc.reach) || e.PublishedAt == nil {
			t.Errorf("%s: event %s %v published %v, want published with %d", tc.name, e.Status, e.Counts, e.PublishedAt, len(tc.reach))
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
	// What neither can do, both refuse the same way.
	e := newEvent(t, s, nil)
	for name, err := range map[string]error{
		"fan-out to e-mail": func() error {
			_, err := s.NotificationFanOutMany(ctx, &store.NotificationFanOutManyParams{Events: []store.EventFanOut{{EventID: e.ID, Channel: store.ChannelEmail}}})
			return err
		}(),
		"fan-out of one event twice": func() error {
			_, err := s.NotificationFanOutMany(ctx, &store.NotificationFanOutManyParams{Events: []store.EventFanOut{
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
