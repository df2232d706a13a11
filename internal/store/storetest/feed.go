package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// feedIDs returns the ids of feed items.
func feedIDs(t testing.TB, q store.Queries, p store.NotificationFeedParams) []int64 {
	t.Helper()
	items, err := q.NotificationFeed(t.Context(), &p)
	must(t, err)
	return listIDs(items)
}

// changes lists the change log, failing the test on error.
func changes(t testing.TB, q store.Queries, p store.ChangeListParams) []store.NotificationChange {
	t.Helper()
	cs, err := q.ChangeList(t.Context(), &p)
	must(t, err)
	return cs
}

// changeIDs returns the ids of change log entries.
func changeIDs(cs []store.NotificationChange) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func head(t testing.TB, q store.Queries) store.FeedHead {
	t.Helper()
	h, err := q.FeedHead(t.Context())
	must(t, err)
	return h
}

// testChangeLog checks that the recipient's changes are logged with the
// change, and only when something changed.
func testChangeLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	if h := head(t, s); h != (store.FeedHead{}) {
		t.Errorf("FeedHead of an empty store = %+v, want zeros", h)
	}
	e := newEvent(t, s, nil)
	insertNotifications(t, s, e, store.ChannelMessage, at(-time.Hour), nil, "alice")
	insertNotifications(t, s, e, store.ChannelMessage, at(-time.Hour), nil, "alice")
	insertNotifications(t, s, e, store.ChannelAlert, at(-time.Hour), nil, "alice")
	insertNotifications(t, s, e, store.ChannelMessage, at(-time.Hour), nil, "bob")
	alice := list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})
	bob := list(t, s, store.NotificationListParams{UserID: "bob", Now: t0})
	if len(alice) != 3 || len(bob) != 1 {
		t.Fatalf("alice has %d, bob %d notifications; want 3 and 1", len(alice), len(bob))
	}
	// alice[0] is the alert (newest id, same visible_at), then the messages.
	alert, msg := alice[0], alice[1]

	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: msg.ID, ReadAt: ptr(at(time.Minute)), At: at(2 * time.Minute)}))
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: msg.ID, At: at(3 * time.Minute)}))
	must(t, s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "alice", ID: alert.ID, Until: at(5 * time.Hour), At: at(4 * time.Minute)}))
	n, err := s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "alice", Channel: store.ChannelMessage, At: at(10 * time.Minute)})
	must(t, err)
	if n != 2 {
		t.Fatalf("read all = %d, want 2", n)
	}
	// Nothing changes: nothing is logged.
	n, err = s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "alice", Channel: store.ChannelMessage, At: at(11 * time.Minute)})
	must(t, err)
	if n != 0 {
		t.Fatalf("second read all = %d, want 0", n)
	}
	_, err = s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "bob", At: at(12 * time.Minute)})
	must(t, err)
	// Refused changes are not logged either.
	wantErr(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "bob", ID: msg.ID, ReadAt: ptr(t0)}), store.ErrNotFound)
	wantErr(t, s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "bob", ID: alert.ID, Until: at(time.Hour)}), store.ErrNotFound)
	// Nor are changes rolled back with their transaction.
	errRolledBack := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: alice[2].ID, ReadAt: ptr(t0)}); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, errRolledBack, errRollback)

	all := changes(t, s, store.ChangeListParams{})
	want := []store.NotificationChange{
		{UserID: "alice", Kind: store.ChangeRead, NotificationID: msg.ID, Channel: store.ChannelMessage, At: norm(at(time.Minute)), CreatedAt: norm(at(2 * time.Minute))},
		{UserID: "alice", Kind: store.ChangeUnread, NotificationID: msg.ID, Channel: store.ChannelMessage, At: norm(at(3 * time.Minute)), CreatedAt: norm(at(3 * time.Minute))},
		{UserID: "alice", Kind: store.ChangePostponed, NotificationID: alert.ID, Channel: store.ChannelAlert, At: norm(at(5 * time.Hour)), CreatedAt: norm(at(4 * time.Minute))},
		{UserID: "alice", Kind: store.ChangeReadAll, Channel: store.ChannelMessage, At: norm(at(10 * time.Minute)), Count: 2, CreatedAt: norm(at(10 * time.Minute))},
		{UserID: "bob", Kind: store.ChangeReadAll, At: norm(at(12 * time.Minute)), Count: 1, CreatedAt: norm(at(12 * time.Minute))},
	}
	if len(all) != len(want) {
		t.Fatalf("change log = %+v, want %d entries", all, len(want))
	}
	for i, c := range all {
		if i > 0 && c.ID <= all[i-1].ID {
			t.Errorf("change ids %v do not increase", changeIDs(all))
		}
		checkTime(t, "At", c.At, want[i].At)
		checkTime(t, "CreatedAt", c.CreatedAt, want[i].CreatedAt)
		want[i].ID, want[i].At, want[i].CreatedAt = c.ID, c.At, c.CreatedAt
		equal(t, "change", c, want[i])
	}
	if h := head(t, s); h.ChangeID != all[4].ID || h.NotificationID != bob[0].ID {
		t.Errorf("FeedHead = %+v, want change %d and notification %d", h, all[4].ID, bob[0].ID)
	}

	t.Run("list", func(t *testing.T) {
		ids := changeIDs(all)
		tests := []struct {
			name string
			p    store.ChangeListParams
			want []int64
		}{
			{"after an id", store.ChangeListParams{AfterID: ids[2]}, ids[3:]},
			{"of a user", store.ChangeListParams{UserID: "alice"}, ids[:4]},
			{"of a user after an id", store.ChangeListParams{UserID: "alice", AfterID: ids[1]}, ids[2:4]},
			{"of another user", store.ChangeListParams{UserID: "bob"}, ids[4:]},
			{"of nobody", store.ChangeListParams{UserID: "carol"}, nil},
			{"by ids", store.ChangeListParams{IDs: []int64{ids[4], ids[0], 999999}}, []int64{ids[0], ids[4]}},
			{"by ids of a user", store.ChangeListParams{IDs: []int64{ids[4], ids[0]}, UserID: "bob"}, ids[4:]},
			{"limit", store.ChangeListParams{Limit: 2}, ids[:2]},
			{"after the last", store.ChangeListParams{AfterID: ids[4]}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sameIDs(t, "ids", changeIDs(changes(t, s, tc.p)), tc.want)
			})
		}
	})

	t.Run("purge", func(t *testing.T) {
		n, err := s.ChangePurge(ctx, &store.ChangePurgeParams{Before: at(4 * time.Minute), Limit: 1})
		must(t, err)
		if n != 1 {
			t.Errorf("first purge = %d, want 1 (the limit)", n)
		}
		n, err = s.ChangePurge(ctx, &store.ChangePurgeParams{Before: at(4 * time.Minute)})
		must(t, err)
		if n != 1 {
			t.Errorf("second purge = %d, want 1", n)
		}
		sameIDs(t, "left", changeIDs(changes(t, s, store.ChangeListParams{})), changeIDs(all[2:]))
	})
}

// testNotificationFeed checks the reads of the realtime hub.
func testNotificationFeed(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := newEvent(t, s, func(e *store.Event) { e.Title, e.ContextType, e.ContextID = "First", "invoice", "7" })
	e2 := newEvent(t, s, func(e *store.Event) { e.Key, e.Title = "message:system", "Second" })
	insertNotifications(t, s, e1, store.ChannelMessage, t0, nil, "u1", "u2")
	insertNotifications(t, s, e2, store.ChannelAlert, t0, ptr(at(time.Hour)), "u2")
	insertNotifications(t, s, e1, store.ChannelMessage, t0, nil, "u3")
	all := feedIDs(t, s, store.NotificationFeedParams{})
	if len(all) != 4 {
		t.Fatalf("feed has %d notifications, want 4", len(all))
	}
	if h := head(t, s); h.NotificationID != all[3] {
		t.Errorf("FeedHead = %+v, want notification %d", h, all[3])
	}

	t.Run("items", func(t *testing.T) {
		items, err := s.NotificationFeed(ctx, &store.NotificationFeedParams{AfterID: all[1], Limit: 1})
		must(t, err)
		if len(items) != 1 {
			t.Fatalf("got %d items, want 1", len(items))
		}
		got := items[0]
		checkTime(t, "CreatedAt", got.CreatedAt, norm(t0))
		checkTime(t, "VisibleAt", got.VisibleAt, norm(t0))
		checkTimePtr(t, "ExpiresAt", got.ExpiresAt, ptr(norm(at(time.Hour))))
		got.CreatedAt, got.VisibleAt, got.ExpiresAt = time.Time{}, time.Time{}, nil
		equal(t, "item", got, store.InboxItem{ID: all[2], EventID: e2.ID, UserID: "u2", Channel: store.ChannelAlert,
			Key: "message:system", StatusType: store.StatusCaution, Title: "Second", Body: "Body text"})
		inbox, err := s.NotificationGet(ctx, "u1", all[0])
		must(t, err)
		first := feedItems(t, s, store.NotificationFeedParams{Limit: 1})
		equal(t, "feed item", first[0], *inbox)
	})

	t.Run("select", func(t *testing.T) {
		tests := []struct {
			name string
			p    store.NotificationFeedParams
			want []int64
		}{
			{"after an id", store.NotificationFeedParams{AfterID: all[1]}, all[2:]},
			{"after the last", store.NotificationFeedParams{AfterID: all[3]}, nil},
			{"limit", store.NotificationFeedParams{Limit: 3}, all[:3]},
			{"of users", store.NotificationFeedParams{UserIDs: []string{"u2", "u3"}}, all[1:]},
			{"of users after an id", store.NotificationFeedParams{UserIDs: []string{"u2"}, AfterID: all[1]}, all[2:3]},
			{"a range of one event among others", store.NotificationFeedParams{
				Ranges: []store.FeedRange{{EventID: e1.ID, FirstID: all[0], LastID: all[3]}}}, []int64{all[0], all[1], all[3]}},
			{"ranges", store.NotificationFeedParams{Ranges: []store.FeedRange{
				{EventID: e1.ID, FirstID: all[3], LastID: all[3]}, {EventID: e2.ID, FirstID: all[2], LastID: all[2]}}}, all[2:]},
			{"ranges of users", store.NotificationFeedParams{UserIDs: []string{"u1"},
				Ranges: []store.FeedRange{{EventID: e1.ID, FirstID: all[0], LastID: all[3]}}}, all[:1]},
			{"a range of another event", store.NotificationFeedParams{
				Ranges: []store.FeedRange{{EventID: e2.ID, FirstID: all[0], LastID: all[1]}}}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sameIDs(t, "ids", feedIDs(t, s, tc.p), tc.want)
			})
		}
	})

	t.Run("fan-out", func(t *testing.T) {
		for _, u := range []string{"u1", "u2", "u4"} {
			must(t, s.UserUpsert(ctx, &store.User{ID: u, Active: true, Groups: []string{"g"}}))
		}
		e3 := newEvent(t, s, nil)
		before := head(t, s)
		n, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: e3.ID, Channel: store.ChannelHeaderMessage,
			GroupNames: []string{"g"}, CreatedAt: t0})
		must(t, err)
		items := feedItems(t, s, store.NotificationFeedParams{AfterID: before.NotificationID})
		if n != 3 || len(items) != 3 {
			t.Fatalf("fan-out of %d, feed of %d after it; want 3", n, len(items))
		}
		for _, it := range items {
			if it.EventID != e3.ID || it.Channel != store.ChannelHeaderMessage {
				t.Errorf("feed item %+v is not of the fan-out", it)
			}
		}
	})

	t.Run("purge never lets an id come back", func(t *testing.T) {
		e := newEvent(t, s, nil)
		for range 3 {
			insertNotifications(t, s, e, store.ChannelMessage, at(-48*time.Hour), nil, "old")
		}
		olds := list(t, s, store.NotificationListParams{UserID: "old", Now: t0})
		for _, it := range olds {
			must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "old", ID: it.ID, ReadAt: ptr(at(-47 * time.Hour))}))
		}
		_, err := s.NotificationPurge(ctx, &store.NotificationPurgeParams{ReadBefore: t0, ExpiredBefore: t0, Limit: 100})
		must(t, err)
		insertNotifications(t, s, e, store.ChannelMessage, t0, nil, "new")
		got := list(t, s, store.NotificationListParams{UserID: "new", Now: t0})
		if len(olds) != 3 || len(got) != 1 || got[0].ID <= olds[0].ID {
			t.Errorf("a notification inserted after a purge of the newest got id %v, want above %d", listIDs(got), olds[0].ID)
		}
	})
}

func feedItems(t testing.TB, q store.Queries, p store.NotificationFeedParams) []store.InboxItem {
	t.Helper()
	items, err := q.NotificationFeed(t.Context(), &p)
	must(t, err)
	return items
}

// testNotificationSince checks one user's catch-up read.
func testNotificationSince(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newEvent(t, s, nil)
	for _, d := range []time.Duration{-2 * time.Hour, -time.Hour, 0, time.Hour} {
		insertNotifications(t, s, e, store.ChannelMessage, at(d), nil, "pat")
		insertNotifications(t, s, e, store.ChannelAlert, at(d), nil, "sam")
	}
	pat := feedIDs(t, s, store.NotificationFeedParams{UserIDs: []string{"pat"}})
	if len(pat) != 4 {
		t.Fatalf("pat has %d notifications, want 4", len(pat))
	}
	// The oldest, postponed past the others, is still older than any
	// catch-up from a later time; the one created at t0-1h, read, still
	// counts.
	must(t, s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "pat", ID: pat[0], Until: at(3 * time.Hour)}))
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "pat", ID: pat[1], ReadAt: ptr(t0)}))
	tests := []struct {
		name string
		p    store.NotificationSinceParams
		want []int64
	}{
		{"created after a time", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(-90 * time.Minute)}, pat[1:]},
		{"strictly after", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(-time.Hour)}, pat[2:]},
		{"and after an id", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(-3 * time.Hour), AfterID: pat[2]}, pat[3:]},
		{"everything", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(-3 * time.Hour)}, pat},
		{"limit", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(-3 * time.Hour), Limit: 2}, pat[:2]},
		{"nothing yet", store.NotificationSinceParams{UserID: "pat", CreatedAfter: at(2 * time.Hour)}, nil},
		{"nobody", store.NotificationSinceParams{UserID: "nobody", CreatedAfter: at(-3 * time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := s.NotificationSince(ctx, &tc.p)
			must(t, err)
			sameIDs(t, "ids", listIDs(items), tc.want)
			for _, it := range items {
				if it.UserID != tc.p.UserID {
					t.Errorf("item of %s in %s's catch-up", it.UserID, tc.p.UserID)
				}
			}
		})
	}
}

// testCountUnreadMany checks the unread counts of several users at once
// agree with those of each.
func testCountUnreadMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newEvent(t, s, nil)
	insertNotifications(t, s, e, store.ChannelMessage, at(-time.Hour), nil, "alice", "bob")
	insertNotifications(t, s, e, store.ChannelMessage, at(-time.Hour), nil, "alice")
	insertNotifications(t, s, e, store.ChannelAlert, at(-time.Hour), nil, "bob")
	insertNotifications(t, s, e, store.ChannelAlert, at(-time.Hour), ptr(at(-time.Minute)), "alice") // expired
	insertNotifications(t, s, e, store.ChannelHeaderMessage, at(time.Hour), nil, "alice")            // not visible yet
	read := list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})[0]
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: read.ID, ReadAt: ptr(t0)}))

	users := []string{"alice", "bob", "carol"}
	got, err := s.NotificationCountUnreadMany(ctx, users, t0)
	must(t, err)
	if len(got) != len(users) {
		t.Fatalf("counts of %d users, want %d: %v", len(got), len(users), got)
	}
	for _, u := range users {
		one, err := s.NotificationCountUnread(ctx, u, t0)
		must(t, err)
		equal(t, "counts of "+u, got[u], one)
	}
	equal(t, "alice", got["alice"], map[store.Channel]int{store.ChannelMessage: 1, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0})
	none, err := s.NotificationCountUnreadMany(ctx, nil, t0)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("counts of no users = %v", none)
	}
}

// testReadTx checks that a read transaction sees one snapshot and cannot
// write.
func testReadTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newEvent(t, s, nil)
	insertNotifications(t, s, e, store.ChannelMessage, t0, nil, "u1")
	before := head(t, s)
	err := s.ReadTx(ctx, func(ctx context.Context, q store.Queries) error {
		first := head(t, q)
		insertNotifications(t, s, e, store.ChannelMessage, t0, nil, "u2") // committed outside
		if again := head(t, q); again != first || first != before {
			t.Errorf("FeedHead in one read transaction: %+v then %+v, want %+v twice", first, again, before)
		}
		if items := feedItems(t, q, store.NotificationFeedParams{AfterID: first.NotificationID}); len(items) != 0 {
			t.Errorf("the read transaction sees %d rows committed after it began", len(items))
		}
		if err := q.UserUpsert(ctx, &store.User{ID: "w", Active: true}); err == nil {
			t.Error("a write in a read transaction succeeded")
		}
		return nil
	})
	must(t, err)
	if after := head(t, s); after.NotificationID <= before.NotificationID {
		t.Errorf("FeedHead after the read transaction = %+v, want past %+v", after, before)
	}
	_, err = s.UserGet(ctx, "w")
	wantErr(t, err, store.ErrNotFound)
	errStop := errors.New("stop")
	wantErr(t, s.ReadTx(ctx, func(context.Context, store.Queries) error { return errStop }), errStop)
}
