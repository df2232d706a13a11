package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// insertNotifications creates one notification of event e per user.
func insertNotifications(t testing.TB, q store.Queries, e *store.Event, ch store.Channel, created time.Time, expires *time.Time, users ...string) {
	t.Helper()
	n, err := q.NotificationInsertMany(t.Context(), &store.NotificationInsertManyParams{
		EventID: e.ID, Channel: ch, UserIDs: users, CreatedAt: created, ExpiresAt: expires,
	})
	must(t, err)
	if n != len(users) {
		t.Fatalf("NotificationInsertMany = %d, want %d", n, len(users))
	}
}

// listIDs returns the ids of a page.
func listIDs(items []store.InboxItem) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// list returns a user's page, failing the test on error. It reads the
// page three times: without an event cache, with a new one (every event
// loaded) and with the same one again (every event kept); all three must
// be the same.
func list(t testing.TB, q store.Queries, p store.NotificationListParams) []store.InboxItem {
	t.Helper()
	items, err := q.NotificationList(t.Context(), &p)
	must(t, err)
	p.Events = store.NewEventCache()
	for _, pass := range []string{"new event cache", "kept events"} {
		again, err := q.NotificationList(t.Context(), &p)
		must(t, err)
		if len(again) != len(items) {
			t.Fatalf("with a %s: %d items, without: %d", pass, len(again), len(items))
		}
		for i := range items {
			equal(t, "item with "+pass, again[i], items[i])
		}
	}
	return items
}

func testNotifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	hello := newEvent(t, s, func(e *store.Event) {
		e.Title, e.Body, e.ContextType, e.ContextID = "Hello", "First message", "invoice", "1"
	})
	system := newEvent(t, s, func(e *store.Event) { e.Key, e.Title = "message:system", "Maintenance" })
	banner := newEvent(t, s, func(e *store.Event) { e.Title = "Old banner" })
	later := newEvent(t, s, func(e *store.Event) { e.Title = "Not yet" })

	insertNotifications(t, s, hello, store.ChannelMessage, at(-3*time.Hour), nil, "alice", "bob")
	insertNotifications(t, s, system, store.ChannelAlert, at(-2*time.Hour), ptr(at(24*time.Hour)), "alice")
	insertNotifications(t, s, banner, store.ChannelHeaderMessage, at(-time.Hour), ptr(at(-30*time.Minute)), "alice")
	insertNotifications(t, s, later, store.ChannelMessage, at(time.Hour), nil, "alice")

	all := list(t, s, store.NotificationListParams{UserID: "alice", Now: at(10 * time.Hour), Limit: 200})
	if len(all) != 3 { // the banner has expired
		t.Fatalf("alice has %d notifications at t0+10h, want 3", len(all))
	}
	nLater, nSystem, nHello := all[0], all[1], all[2]
	if nLater.EventID != later.ID || nSystem.EventID != system.ID || nHello.EventID != hello.ID {
		t.Fatalf("notifications of events %d %d %d, want %d %d %d",
			nLater.EventID, nSystem.EventID, nHello.EventID, later.ID, system.ID, hello.ID)
	}

	t.Run("inbox item", func(t *testing.T) {
		it := nHello
		checkTime(t, "CreatedAt", it.CreatedAt, norm(at(-3*time.Hour)))
		checkTime(t, "VisibleAt", it.VisibleAt, norm(at(-3*time.Hour)))
		checkTimePtr(t, "ExpiresAt", it.ExpiresAt, nil)
		checkTimePtr(t, "ReadAt", it.ReadAt, nil)
		it.CreatedAt, it.VisibleAt = time.Time{}, time.Time{}
		equal(t, "item", it, store.InboxItem{
			ID: it.ID, EventID: hello.ID, UserID: "alice", Channel: store.ChannelMessage,
			Key: "message:internal", StatusType: store.StatusNeutral, Title: "Hello", Body: "First message",
			ContextType: "invoice", ContextID: "1",
		})
		if nSystem.StatusType != store.StatusCaution || nSystem.Channel != store.ChannelAlert || nSystem.Title != "Maintenance" {
			t.Errorf("alert item = %+v", nSystem)
		}
		checkTimePtr(t, "ExpiresAt", nSystem.ExpiresAt, ptr(norm(at(24*time.Hour))))
		got, err := s.NotificationGet(ctx, "alice", nHello.ID)
		must(t, err)
		equal(t, "NotificationGet", *got, nHello)
	})

	t.Run("event cache and a changed status mark", func(t *testing.T) {
		cache := store.NewEventCache()
		p := store.NotificationListParams{UserID: "alice", Now: t0, Channel: store.ChannelAlert, Events: cache}
		items, err := s.NotificationList(ctx, &p)
		must(t, err)
		if len(items) != 1 || items[0].StatusType != store.StatusCaution {
			t.Fatalf("alerts = %+v", items)
		}
		typ, err := s.TypeGet(ctx, "message:system")
		must(t, err)
		typ.StatusType = store.StatusValid
		must(t, s.TypeUpsert(ctx, typ))
		defer func() {
			typ.StatusType = store.StatusCaution
			must(t, s.TypeUpsert(ctx, typ))
		}()
		cache.TypesChanged()
		items, err = s.NotificationList(ctx, &p)
		must(t, err)
		if len(items) != 1 || items[0].StatusType != store.StatusValid || items[0].Title != "Maintenance" {
			t.Fatalf("alerts after the type's change = %+v", items)
		}
	})

	t.Run("get is per user", func(t *testing.T) {
		_, err := s.NotificationGet(ctx, "bob", nHello.ID)
		wantErr(t, err, store.ErrNotFound)
		_, err = s.NotificationGet(ctx, "alice", 999999)
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("list filters", func(t *testing.T) {
		tests := []struct {
			name string
			p    store.NotificationListParams
			want []int64
		}{
			{"visible and unexpired now", store.NotificationListParams{UserID: "alice", Now: t0}, []int64{nSystem.ID, nHello.ID}},
			{"channel", store.NotificationListParams{UserID: "alice", Now: t0, Channel: store.ChannelMessage}, []int64{nHello.ID}},
			{"channel with nothing", store.NotificationListParams{UserID: "alice", Now: t0, Channel: store.ChannelHeaderMessage}, nil},
			{"before expiry", store.NotificationListParams{UserID: "alice", Now: at(-45 * time.Minute), Channel: store.ChannelHeaderMessage}, nil},
			{"other user", store.NotificationListParams{UserID: "bob", Now: t0}, nil},
			{"unknown user", store.NotificationListParams{UserID: "carol", Now: t0}, nil},
		}
		// The banner is visible between its creation and its expiry.
		tests[3].want = []int64{list(t, s, store.NotificationListParams{UserID: "alice", Now: at(-45 * time.Minute)})[0].ID}
		bob := list(t, s, store.NotificationListParams{UserID: "bob", Now: t0})
		if len(bob) != 1 || bob[0].EventID != hello.ID {
			t.Fatalf("bob's inbox = %+v, want the hello message", bob)
		}
		tests[4].want = []int64{bob[0].ID}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sameIDs(t, "ids", listIDs(list(t, s, tc.p)), tc.want)
			})
		}
	})

	t.Run("count unread", func(t *testing.T) {
		got, err := s.NotificationCountUnread(ctx, "alice", t0)
		must(t, err)
		equal(t, "counts", got, map[store.Channel]int{
			store.ChannelMessage: 1, store.ChannelHeaderMessage: 0, store.ChannelAlert: 1,
		})
		got, err = s.NotificationCountUnread(ctx, "nobody", t0)
		must(t, err)
		equal(t, "counts of nobody", got, map[store.Channel]int{
			store.ChannelMessage: 0, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0,
		})
	})

	t.Run("set read and unread", func(t *testing.T) {
		must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: nHello.ID, ReadAt: ptr(t0)}))
		got, err := s.NotificationGet(ctx, "alice", nHello.ID)
		must(t, err)
		checkTimePtr(t, "ReadAt", got.ReadAt, ptr(norm(t0)))
		sameIDs(t, "unread", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0, UnreadOnly: true})), []int64{nSystem.ID})
		sameIDs(t, "all", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})), []int64{nSystem.ID, nHello.ID})
		counts, err := s.NotificationCountUnread(ctx, "alice", t0)
		must(t, err)
		if counts[store.ChannelMessage] != 0 {
			t.Errorf("unread messages = %d after read, want 0", counts[store.ChannelMessage])
		}

		must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "alice", ID: nHello.ID}))
		got, err = s.NotificationGet(ctx, "alice", nHello.ID)
		must(t, err)
		checkTimePtr(t, "ReadAt after unread", got.ReadAt, nil)

		err = s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "bob", ID: nHello.ID, ReadAt: ptr(t0)})
		wantErr(t, err, store.ErrNotFound)
		got, err = s.NotificationGet(ctx, "alice", nHello.ID)
		must(t, err)
		checkTimePtr(t, "ReadAt after someone else's try", got.ReadAt, nil)
	})

	t.Run("postpone", func(t *testing.T) {
		until := at(2 * time.Hour)
		must(t, s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "alice", ID: nSystem.ID, Until: until}))
		got, err := s.NotificationGet(ctx, "alice", nSystem.ID)
		must(t, err)
		checkTime(t, "VisibleAt", got.VisibleAt, norm(until))
		checkTime(t, "CreatedAt", got.CreatedAt, norm(at(-2*time.Hour)))
		sameIDs(t, "list now", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})), []int64{nHello.ID})
		counts, err := s.NotificationCountUnread(ctx, "alice", t0)
		must(t, err)
		if counts[store.ChannelAlert] != 0 {
			t.Errorf("unread alerts = %d while postponed, want 0", counts[store.ChannelAlert])
		}
		// Later, it comes back first: the newest visible.
		sameIDs(t, "list later", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: at(3 * time.Hour)})),
			[]int64{nSystem.ID, nLater.ID, nHello.ID})
		counts, err = s.NotificationCountUnread(ctx, "alice", at(3*time.Hour))
		must(t, err)
		equal(t, "counts later", counts, map[store.Channel]int{
			store.ChannelMessage: 2, store.ChannelHeaderMessage: 0, store.ChannelAlert: 1,
		})
		err = s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "bob", ID: nSystem.ID, Until: until})
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("read all", func(t *testing.T) {
		n, err := s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "alice", Channel: store.ChannelMessage, At: t0})
		must(t, err)
		if n != 1 { // nLater is not visible yet
			t.Errorf("NotificationReadAll = %d, want 1", n)
		}
		got, err := s.NotificationGet(ctx, "alice", nHello.ID)
		must(t, err)
		checkTimePtr(t, "ReadAt", got.ReadAt, ptr(norm(t0)))
		got, err = s.NotificationGet(ctx, "alice", nLater.ID)
		must(t, err)
		checkTimePtr(t, "ReadAt of a hidden one", got.ReadAt, nil)
		n, err = s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "alice", Channel: store.ChannelMessage, At: t0})
		must(t, err)
		if n != 0 {
			t.Errorf("second NotificationReadAll = %d, want 0", n)
		}
		counts, err := s.NotificationCountUnread(ctx, "bob", t0)
		must(t, err)
		if counts[store.ChannelMessage] != 1 {
			t.Errorf("bob's unread messages = %d, want 1: read all is per user", counts[store.ChannelMessage])
		}
	})

	t.Run("insert for no users", func(t *testing.T) {
		n, err := s.NotificationInsertMany(ctx, &store.NotificationInsertManyParams{
			EventID: hello.ID, Channel: store.ChannelMessage, CreatedAt: t0,
		})
		must(t, err)
		if n != 0 {
			t.Errorf("NotificationInsertMany with no users = %d, want 0", n)
		}
	})
}

// testNotificationPages checks cursor paging across equal visible_at and
// across channels: a page of every channel merges the channels' own
// ranges, with or without a cursor.
func testNotificationPages(t *testing.T, s store.Store) {
	e := newEvent(t, s, nil)
	const total = 25
	channels := []store.Channel{store.ChannelMessage, store.ChannelMessage, store.ChannelAlert, store.ChannelHeaderMessage}
	for i := range total {
		// Three at a time share their visible_at; the channels take turns
		// at another pace, so that equal times span channels.
		insertNotifications(t, s, e, channels[i%len(channels)], at(-time.Duration(i/3)*time.Minute), nil, "pat")
	}
	insertNotifications(t, s, e, store.ChannelMessage, t0, nil, "other")
	now := at(time.Hour)

	all := list(t, s, store.NotificationListParams{UserID: "pat", Now: now, Limit: 200})
	if len(all) != total {
		t.Fatalf("got %d notifications, want %d", len(all), total)
	}
	sorted := slices.IsSortedFunc(all, func(a, b store.InboxItem) int {
		if c := b.VisibleAt.Compare(a.VisibleAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if !sorted {
		t.Fatalf("list is not ordered by visible_at desc, id desc: %v", listIDs(all))
	}

	t.Run("default limit 20", func(t *testing.T) {
		got := list(t, s, store.NotificationListParams{UserID: "pat", Now: now})
		sameIDs(t, "page", listIDs(got), listIDs(all[:20]))
	})

	for _, size := range []int{1, 2, 3, 4, 7} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			var got []store.InboxItem
			var cursor *store.Cursor
			for range total + 1 {
				page := list(t, s, store.NotificationListParams{UserID: "pat", Now: now, Cursor: cursor, Limit: size})
				if len(page) > size {
					t.Fatalf("page of %d items, limit %d", len(page), size)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				last := page[len(page)-1]
				cursor = &store.Cursor{VisibleAt: last.VisibleAt, ID: last.ID}
			}
			sameIDs(t, "pages joined", listIDs(got), listIDs(all))
		})
	}

	for _, ch := range []store.Channel{store.ChannelMessage, store.ChannelAlert, store.ChannelHeaderMessage} {
		t.Run(fmt.Sprintf("pages of 2 on %s", ch), func(t *testing.T) {
			var want []store.InboxItem
			for _, it := range all {
				if it.Channel == ch {
					want = append(want, it)
				}
			}
			var got []store.InboxItem
			var cursor *store.Cursor
			for range total + 1 {
				page := list(t, s, store.NotificationListParams{UserID: "pat", Channel: ch, Now: now, Cursor: cursor, Limit: 2})
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				last := page[len(page)-1]
				cursor = &store.Cursor{VisibleAt: last.VisibleAt, ID: last.ID}
			}
			sameIDs(t, "pages joined", listIDs(got), listIDs(want))
		})
	}

	t.Run("unread pages", func(t *testing.T) {
		for _, it := range all[:5] {
			must(t, s.NotificationSetRead(t.Context(), &store.NotificationSetReadParams{UserID: "pat", ID: it.ID, ReadAt: ptr(t0)}))
		}
		got := list(t, s, store.NotificationListParams{UserID: "pat", Now: now, UnreadOnly: true, Limit: 3})
		sameIDs(t, "first unread page", listIDs(got), listIDs(all[5:8]))
		last := got[len(got)-1]
		got = list(t, s, store.NotificationListParams{UserID: "pat", Now: now, UnreadOnly: true, Limit: 3,
			Cursor: &store.Cursor{VisibleAt: last.VisibleAt, ID: last.ID}})
		sameIDs(t, "second unread page", listIDs(got), listIDs(all[8:11]))
	})
}

func testNotificationPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newEvent(t, s, nil)
	insertNotifications(t, s, e, store.ChannelMessage, at(-48*time.Hour), nil, "u1", "u2", "u3", "u4")
	insertNotifications(t, s, e, store.ChannelAlert, at(-48*time.Hour), ptr(at(-24*time.Hour)), "u1")
	insertNotifications(t, s, e, store.ChannelAlert, at(-48*time.Hour), ptr(at(24*time.Hour)), "u2")
	idOf := func(user string, ch store.Channel) int64 {
		t.Helper()
		items := list(t, s, store.NotificationListParams{UserID: user, Channel: ch, Now: at(-47 * time.Hour)})
		if len(items) != 1 {
			t.Fatalf("%s has %d %s notifications, want 1", user, len(items), ch)
		}
		return items[0].ID
	}
	oldRead := idOf("u1", store.ChannelMessage)
	recentRead := idOf("u2", store.ChannelMessage)
	unread := idOf("u3", store.ChannelMessage)
	oldRead2 := idOf("u4", store.ChannelMessage)
	expired := idOf("u1", store.ChannelAlert)
	live := idOf("u2", store.ChannelAlert)
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u1", ID: oldRead, ReadAt: ptr(at(-40 * time.Hour))}))
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u4", ID: oldRead2, ReadAt: ptr(at(-39 * time.Hour))}))
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u2", ID: recentRead, ReadAt: ptr(at(-time.Hour))}))
	p := &store.NotificationPurgeParams{ReadBefore: at(-30 * time.Hour), ExpiredBefore: at(-time.Hour), Limit: 2}

	n, err := s.NotificationPurge(ctx, p)
	must(t, err)
	if n != 2 {
		t.Errorf("first purge = %d, want 2 (the limit)", n)
	}
	n, err = s.NotificationPurge(ctx, p)
	must(t, err)
	if n != 1 {
		t.Errorf("second purge = %d, want 1", n)
	}
	n, err = s.NotificationPurge(ctx, p)
	must(t, err)
	if n != 0 {
		t.Errorf("third purge = %d, want 0", n)
	}
	gone := map[int64]bool{oldRead: true, oldRead2: true, expired: true}
	for _, tc := range []struct {
		user string
		id   int64
	}{{"u1", oldRead}, {"u4", oldRead2}, {"u1", expired}, {"u2", recentRead}, {"u3", unread}, {"u2", live}} {
		_, err := s.NotificationGet(ctx, tc.user, tc.id)
		if gone[tc.id] {
			wantErr(t, err, store.ErrNotFound)
		} else if err != nil {
			t.Errorf("notification %d of %s: %v, want kept", tc.id, tc.user, err)
		}
	}
}
