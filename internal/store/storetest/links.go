package storetest

import (
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// testLinks: an event's url and actions round-trip, and its inbox items
// carry them, the host's callback URL left out.
func testLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	actions := []store.Action{
		{Label: "Voir", URL: "https://erp.example.org/invoices/42"},
		{Label: "Valider", Callback: "https://erp.example.org/hooks/validate/42"},
	}
	ev := newEvent(t, s, func(e *store.Event) {
		e.URL, e.Actions = "https://erp.example.org/invoices/42?tab=1", actions
	})
	plain := newEvent(t, s, nil)
	got, err := s.EventGet(ctx, ev.ID)
	must(t, err)
	equal(t, "URL", got.URL, ev.URL)
	equal(t, "Actions", got.Actions, actions)
	got, err = s.EventGet(ctx, plain.ID)
	must(t, err)
	if got.URL != "" || got.Actions != nil {
		t.Errorf("event without links = %q %+v", got.URL, got.Actions)
	}

	insertNotifications(t, s, ev, store.ChannelMessage, at(-time.Hour), nil, "alice")
	insertNotifications(t, s, plain, store.ChannelMessage, at(-time.Hour), nil, "alice")
	want := []store.ItemAction{
		{Label: "Voir", URL: "https://erp.example.org/invoices/42"},
		{Label: "Valider", Callback: true},
	}
	check := func(name string, items []store.InboxItem) {
		t.Helper()
		if len(items) != 2 {
			t.Fatalf("%s: %d items, want 2", name, len(items))
		}
		for _, it := range items {
			switch it.EventID {
			case ev.ID:
				equal(t, name+" url", it.URL, ev.URL)
				equal(t, name+" actions", it.Actions, want)
			default:
				if it.URL != "" || it.Actions != nil {
					t.Errorf("%s: item without links = %q %+v", name, it.URL, it.Actions)
				}
			}
		}
	}
	check("list", list(t, s, store.NotificationListParams{UserID: "alice", Now: t0}))
	items, err := s.NotificationFeed(ctx, &store.NotificationFeedParams{UserIDs: []string{"alice"}})
	must(t, err)
	check("feed", items)
	items, err = s.NotificationSince(ctx, &store.NotificationSinceParams{UserID: "alice", CreatedAfter: at(-2 * time.Hour)})
	must(t, err)
	check("since", items)
}

// testArchive: an archived notification leaves the inbox and the unread
// counts, shows in the archive, comes back when unarchived, and both
// changes are logged.
func testArchive(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := newEvent(t, s, func(e *store.Event) { e.Title = "One" })
	e2 := newEvent(t, s, func(e *store.Event) { e.Title = "Two" })
	insertNotifications(t, s, e1, store.ChannelMessage, at(-2*time.Hour), nil, "alice", "bob")
	insertNotifications(t, s, e2, store.ChannelMessage, at(-time.Hour), nil, "alice")
	inbox := list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})
	if len(inbox) != 2 {
		t.Fatalf("alice has %d notifications, want 2", len(inbox))
	}
	n2, n1 := inbox[0], inbox[1]
	head0 := head(t, s)

	archivedAt := at(-10 * time.Minute)
	must(t, s.NotificationSetArchived(ctx, &store.NotificationSetArchivedParams{UserID: "alice", ID: n1.ID, ArchivedAt: &archivedAt, At: archivedAt}))
	sameIDs(t, "inbox", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})), []int64{n2.ID})
	sameIDs(t, "unread inbox", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0, UnreadOnly: true})), []int64{n2.ID})
	arch := list(t, s, store.NotificationListParams{UserID: "alice", Now: t0, Archived: true})
	sameIDs(t, "archive", listIDs(arch), []int64{n1.ID})
	checkTimePtr(t, "ArchivedAt", arch[0].ArchivedAt, ptr(norm(archivedAt)))
	got, err := s.NotificationGet(ctx, "alice", n1.ID)
	must(t, err)
	checkTimePtr(t, "get ArchivedAt", got.ArchivedAt, ptr(norm(archivedAt)))

	counts, err := s.NotificationCountUnread(ctx, "alice", t0)
	must(t, err)
	equal(t, "alice's unread messages", counts[store.ChannelMessage], 1)
	many, err := s.NotificationCountUnreadMany(ctx, []string{"alice", "bob"}, t0)
	must(t, err)
	equal(t, "many: alice", many["alice"][store.ChannelMessage], 1)
	equal(t, "many: bob", many["bob"][store.ChannelMessage], 1)

	// Read all leaves the archive alone.
	n, err := s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "alice", At: at(-5 * time.Minute)})
	must(t, err)
	equal(t, "read all", n, 1)
	got, err = s.NotificationGet(ctx, "alice", n1.ID)
	must(t, err)
	checkTimePtr(t, "archived ReadAt", got.ReadAt, nil)

	// Another's notification, or none: not found, nothing logged.
	wantErr(t, s.NotificationSetArchived(ctx, &store.NotificationSetArchivedParams{UserID: "bob", ID: n2.ID, ArchivedAt: &archivedAt}), store.ErrNotFound)

	unarchivedAt := at(-time.Minute)
	must(t, s.NotificationSetArchived(ctx, &store.NotificationSetArchivedParams{UserID: "alice", ID: n1.ID, At: unarchivedAt}))
	sameIDs(t, "inbox after unarchive", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0})), []int64{n2.ID, n1.ID})
	sameIDs(t, "archive after unarchive", listIDs(list(t, s, store.NotificationListParams{UserID: "alice", Now: t0, Archived: true})), nil)
	counts, err = s.NotificationCountUnread(ctx, "alice", t0)
	must(t, err)
	equal(t, "unread after unarchive", counts[store.ChannelMessage], 1)

	cs := changes(t, s, store.ChangeListParams{AfterID: head0.ChangeID, UserID: "alice"})
	if len(cs) != 3 {
		t.Fatalf("changes = %+v, want archived, read_all, unarchived", cs)
	}
	a, u := cs[0], cs[2]
	a.ID, u.ID = 0, 0
	equal(t, "archived change", a, store.NotificationChange{
		UserID: "alice", Kind: store.ChangeArchived, NotificationID: n1.ID, Channel: store.ChannelMessage,
		At: norm(archivedAt), CreatedAt: norm(archivedAt),
	})
	equal(t, "unarchived change", u, store.NotificationChange{
		UserID: "alice", Kind: store.ChangeUnarchived, NotificationID: n1.ID, Channel: store.ChannelMessage,
		At: norm(unarchivedAt), CreatedAt: norm(unarchivedAt),
	})
}
