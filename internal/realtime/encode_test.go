package realtime

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func TestCountsJSON(t *testing.T) {
	for _, c := range []map[store.Channel]int{
		{store.ChannelMessage: 3, store.ChannelHeaderMessage: 0, store.ChannelAlert: 12},
		{store.ChannelMessage: 0, store.ChannelHeaderMessage: 1, store.ChannelAlert: 0},
	} {
		want, _ := json.Marshal(c)
		if got := appendCounts(nil, c); string(got) != string(want) {
			t.Errorf("appendCounts(%v) = %s; want %s", c, got, want)
		}
	}
}

// TestItemEncoder: the items of one event, with their ids and users
// spliced into the first one's JSON, or encoded in full where they differ
// in anything else, encode exactly as encoding/json does.
func TestItemEncoder(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 123000, time.UTC)
	later := at.Add(time.Hour)
	base := store.InboxItem{ID: 10, EventID: 7, UserID: "u1", Channel: store.ChannelMessage, Key: "message:internal",
		Title: `Hé "there" <b>`, Body: "line\nnext & more", ContextType: "doc", ContextID: "42",
		CreatedAt: at, VisibleAt: at, ExpiresAt: &later, URL: "https://example.org/?a=1&b=2",
		Actions: []store.ItemAction{{Label: "Open", URL: "https://example.org"}}}
	var items []store.InboxItem
	for i, user := range []string{"u1", "u2", `we"ird<user>`, "émile", "x"} {
		it := base
		it.ID, it.UserID = int64(100+i), user
		items = append(items, it)
	}
	read := base
	read.ID, read.UserID, read.ReadAt = 200, "u9", &at
	other := base
	other.ID, other.EventID, other.Title = 201, 8, "Other"
	actions := base
	actions.ID, actions.Actions = 202, []store.ItemAction{{Label: "Close", Callback: true}}
	local := base
	local.ID, local.CreatedAt = 203, at.In(time.FixedZone("X", 3600))
	items = append(items, read, other, actions, local)
	var enc itemEncoder
	for i := range items {
		want, _ := json.Marshal(&items[i])
		if got := enc.encode(&items[i]); string(got) != string(want) {
			t.Errorf("item %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestSameContentFields: sameContent compares every field of an inbox
// item but its id and user; a field added to store.InboxItem must be
// added there too.
func TestSameContentFields(t *testing.T) {
	known := []string{"ID", "EventID", "UserID", "Channel", "Key", "StatusType", "Title", "Body", "ContextType",
		"ContextID", "CreatedAt", "VisibleAt", "ExpiresAt", "ReadAt", "URL", "Actions", "ArchivedAt"}
	typ := reflect.TypeFor[store.InboxItem]()
	if typ.NumField() != len(known) {
		t.Fatalf("store.InboxItem has %d fields, sameContent knows %d: compare the new ones there", typ.NumField(), len(known))
	}
	for i, name := range known {
		if typ.Field(i).Name != name {
			t.Fatalf("field %d of store.InboxItem is %s, sameContent expects %s", i, typ.Field(i).Name, name)
		}
	}
}
