package realtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// itemEncoder encodes the items of one delivery, each once, whatever the
// number of its streams. The items of one event and channel differ, as a
// rule, only in their id and recipient: the first is encoded in full
// (encoding/json), the others are its JSON with their id and user id
// spliced in. An item that differs in anything else is encoded in full.
type itemEncoder struct {
	tmpl map[tmplKey]*itemTemplate
	// arena holds the spliced JSON of many items: one allocation for a
	// few hundred of them rather than one each.
	arena []byte
}

// arenaSize is the size of one arena.
const arenaSize = 64 << 10

type tmplKey struct {
	event   int64
	channel store.Channel
}

// itemTemplate is the JSON of an item cut around its id and user id:
// head ID mid "USER" tail.
type itemTemplate struct {
	item            store.InboxItem
	head, mid, tail []byte
}

const (
	tmplHead = `{"id":0`
	tmplUser = `,"user_id":""`
)

// encode returns the JSON of it, exactly as json.Marshal writes it.
func (e *itemEncoder) encode(it *store.InboxItem) []byte {
	k := tmplKey{it.EventID, it.Channel}
	t := e.tmpl[k]
	if t == nil {
		if t = newTemplate(it); t == nil {
			return marshal("notification", it)
		}
		if e.tmpl == nil {
			e.tmpl = map[tmplKey]*itemTemplate{}
		}
		e.tmpl[k] = t
	}
	if !sameContent(&t.item, it) {
		return marshal("notification", it)
	}
	need := len(t.head) + len(t.mid) + len(t.tail) + len(it.UserID) + 24
	if cap(e.arena)-len(e.arena) < need {
		e.arena = make([]byte, 0, max(arenaSize, need))
	}
	b := e.arena[len(e.arena):len(e.arena)]
	b = append(b, t.head...)
	b = strconv.AppendInt(b, it.ID, 10)
	b = append(b, t.mid...)
	b = appendJSONString(b, it.UserID)
	b = append(b, t.tail...)
	if len(b) <= cap(e.arena)-len(e.arena) { // in the arena (else append moved it out)
		e.arena = e.arena[:len(e.arena)+len(b)]
	}
	return b[:len(b):len(b)]
}

// newTemplate cuts the JSON of it, with no id and user, around them; nil
// if its layout is not the expected one.
func newTemplate(it *store.InboxItem) *itemTemplate {
	t := &itemTemplate{item: *it}
	t.item.ID, t.item.UserID = 0, ""
	b := marshal("notification", &t.item)
	if !bytes.HasPrefix(b, []byte(tmplHead)) {
		return nil
	}
	i := bytes.Index(b, []byte(tmplUser))
	if i < 0 {
		return nil
	}
	t.head = b[:len(tmplHead)-1] // `{"id":`
	t.mid = b[len(tmplHead) : i+len(tmplUser)-2]
	t.tail = b[i+len(tmplUser):]
	return t
}

// sameContent reports whether a and b encode alike but for their id and
// user id. Every field of store.InboxItem but those two is compared (a
// test checks that none is forgotten).
func sameContent(a, b *store.InboxItem) bool {
	return a.EventID == b.EventID && a.Channel == b.Channel && a.Key == b.Key && a.StatusType == b.StatusType &&
		a.Title == b.Title && a.Body == b.Body && a.ContextType == b.ContextType && a.ContextID == b.ContextID &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.VisibleAt, b.VisibleAt) && sameTimePtr(a.ExpiresAt, b.ExpiresAt) &&
		sameTimePtr(a.ReadAt, b.ReadAt) && a.URL == b.URL && slices.Equal(a.Actions, b.Actions) &&
		sameTimePtr(a.ArchivedAt, b.ArchivedAt)
}

// sameTime: same instant, same location (which the JSON shows).
func sameTime(a, b time.Time) bool { return a.Equal(b) && a.Location() == b.Location() }

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameTime(*a, *b)
}

// appendJSONString appends s as encoding/json writes it: plain ASCII
// as it is, anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return append(b, marshal("user id", s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// marshal encodes data that always encodes (items, changes, counts,
// reasons).
func marshal(what string, data any) []byte {
	b, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("realtime: encode %s: %v", what, err))
	}
	return b
}
