package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func testStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	since := at(0)
	now := at(12 * time.Hour)
	stats := func(t *testing.T) *store.Stats {
		t.Helper()
		st, err := s.StatsGet(ctx, &store.StatsParams{Since: since, Now: now})
		must(t, err)
		return st
	}
	zeroReached := map[store.Channel]int{store.ChannelEmail: 0, store.ChannelMessage: 0, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0, store.ChannelPush: 0}
	zeroDeliveries := map[store.DeliveryState]int{store.DeliveryQueued: 0, store.DeliverySending: 0, store.DeliveryRetrying: 0, store.DeliveryFailed: 0}

	t.Run("empty", func(t *testing.T) {
		st := stats(t)
		equal(t, "Stats", *st, store.Stats{Reached: zeroReached, Deliveries: zeroDeliveries})
	})

	publish := func(at time.Time, ch store.Channel, counts map[store.Channel]int) *store.Event {
		e := newEvent(t, s, nil)
		must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: e.ID, Status: store.EventPublished, Channel: ch, Counts: counts, At: at}))
		return e
	}
	publish(at(-time.Second), store.ChannelMessage, map[store.Channel]int{store.ChannelMessage: 100}) // yesterday
	publish(since, store.ChannelMessage, map[store.Channel]int{store.ChannelMessage: 3})              // at the boundary: today
	publish(at(time.Hour), store.ChannelAlert, map[store.Channel]int{store.ChannelAlert: 2})
	email := publish(at(2*time.Hour), store.ChannelEmail, map[store.Channel]int{store.ChannelEmail: 5})
	publish(at(3*time.Hour), store.ChannelMessage, map[store.Channel]int{store.ChannelMessage: 4})
	publish(at(4*time.Hour), store.ChannelHeaderMessage, map[store.Channel]int{}) // reached nobody

	pending := func(due time.Time) {
		newEvent(t, s, func(e *store.Event) { e.DueAt = &due })
	}
	oldest := now.Add(-10 * time.Minute)
	pending(now.Add(-time.Minute))
	pending(oldest)
	pending(now) // due exactly now: overdue
	next := now.Add(time.Hour)
	pending(now.Add(2 * time.Hour))
	pending(next)
	cancelled := newEvent(t, s, func(e *store.Event) { d := now.Add(-time.Hour); e.DueAt = &d })
	must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: cancelled.ID, Status: store.EventCancelled, At: now}))

	_, err := s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: email.ID, CreatedAt: at(2 * time.Hour),
		Recipients: []store.DeliveryRecipient{{UserID: "u1", Address: "a@x.test"}, {UserID: "u2", Address: "b@x.test"}}})
	must(t, err)

	t.Run("figures", func(t *testing.T) {
		st := stats(t)
		if st.PublishedEvents != 5 {
			t.Errorf("PublishedEvents = %d, want 5 (the one of yesterday left out)", st.PublishedEvents)
		}
		equal(t, "Reached", st.Reached, map[store.Channel]int{
			store.ChannelEmail: 5, store.ChannelMessage: 7, store.ChannelHeaderMessage: 0, store.ChannelAlert: 2, store.ChannelPush: 0,
		})
		if st.PendingEvents != 5 || st.OverdueEvents != 3 {
			t.Errorf("PendingEvents, OverdueEvents = %d, %d; want 5, 3", st.PendingEvents, st.OverdueEvents)
		}
		checkTimePtr(t, "OldestOverdue", st.OldestOverdue, ptr(norm(oldest)))
		checkTimePtr(t, "NextDue", st.NextDue, ptr(norm(next)))
		want := map[store.DeliveryState]int{store.DeliveryQueued: 2, store.DeliverySending: 0, store.DeliveryRetrying: 0, store.DeliveryFailed: 0}
		equal(t, "Deliveries", st.Deliveries, want)
	})

	t.Run("a later day", func(t *testing.T) {
		st, err := s.StatsGet(ctx, &store.StatsParams{Since: at(24 * time.Hour), Now: at(25 * time.Hour)})
		must(t, err)
		if st.PublishedEvents != 0 {
			t.Errorf("PublishedEvents = %d, want 0", st.PublishedEvents)
		}
		equal(t, "Reached", st.Reached, zeroReached)
		if st.PendingEvents != 5 || st.OverdueEvents != 5 || st.NextDue != nil {
			t.Errorf("Pending, Overdue, NextDue = %d, %d, %v; want 5, 5, nil", st.PendingEvents, st.OverdueEvents, fmtPtr(st.NextDue))
		}
		checkTimePtr(t, "OldestOverdue", st.OldestOverdue, ptr(norm(oldest)))
	})

	t.Run("in a transaction", func(t *testing.T) {
		must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			st, err := tx.StatsGet(ctx, &store.StatsParams{Since: since, Now: now})
			if err != nil {
				return err
			}
			if st.PublishedEvents != 5 || st.PendingEvents != 5 {
				t.Errorf("StatsGet in a transaction = %+v", st)
			}
			return nil
		}))
	})
}

func testUserSearch(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "c1", Name: "Atelier", Active: true}))
	users := []store.User{
		{ID: "u1", Name: "Ann Martin", Email: "ann@example.org", Active: true, Groups: []string{"manager", "admin"}, Companies: []string{"c1"}},
		{ID: "u2", Name: "Bob", Email: "bob@Example.ORG", Active: true, FollowerID: "u1"},
		{ID: "u3", Name: "Zoé 100%", Email: "zoe@x.test", Active: false, FollowerID: "u1", Groups: []string{"member"}},
		{ID: "u10", Name: "Anna_b", Email: "u3.assistant@x.test", Active: true, FollowerID: "u2"},
	}
	for i := range users {
		must(t, s.UserUpsert(ctx, &users[i]))
	}
	tests := []struct {
		name string
		p    store.UserSearchParams
		want []string
	}{
		{"everyone by name", store.UserSearchParams{}, []string{"u1", "u10", "u2", "u3"}},
		{"name, any case", store.UserSearchParams{Query: "ANN"}, []string{"u1", "u10"}},
		{"e-mail, any case", store.UserSearchParams{Query: "example.org"}, []string{"u1", "u2"}},
		{"exact id first", store.UserSearchParams{Query: "u3"}, []string{"u3", "u10"}},
		{"id is not a substring match", store.UserSearchParams{Query: "u"}, []string{"u10"}},
		{"percent is literal", store.UserSearchParams{Query: "%"}, []string{"u3"}},
		{"underscore is literal", store.UserSearchParams{Query: "_"}, []string{"u10"}},
		{"spaces trimmed", store.UserSearchParams{Query: "  bob "}, []string{"u2"}},
		{"nobody", store.UserSearchParams{Query: "nobody"}, []string{}},
		{"followed by", store.UserSearchParams{FollowerID: "u1"}, []string{"u2", "u3"}},
		{"followed by and query", store.UserSearchParams{FollowerID: "u1", Query: "zo"}, []string{"u3"}},
		{"limit", store.UserSearchParams{Limit: 2}, []string{"u1", "u10"}},
		{"offset", store.UserSearchParams{Limit: 2, Offset: 2}, []string{"u2", "u3"}},
		{"past the end", store.UserSearchParams{Offset: 10}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UserSearch(ctx, &tc.p)
			must(t, err)
			equal(t, "ids", userIDs(got), tc.want)
		})
	}
	t.Run("items are complete", func(t *testing.T) {
		got, err := s.UserSearch(ctx, &store.UserSearchParams{})
		must(t, err)
		for _, u := range got {
			one, err := s.UserGet(ctx, u.ID)
			must(t, err)
			checkTime(t, "UpdatedAt", u.UpdatedAt, one.UpdatedAt)
			equal(t, "UserSearch item "+u.ID, u, *one)
		}
	})
}

// userIDs are the ids of us, in order.
func userIDs(us []store.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}
