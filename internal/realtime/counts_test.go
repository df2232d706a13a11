package realtime

import (
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// The counts that go with new notifications are the client's plus those
// of them that are unread; the counts read after them (follow-up) are
// sent only when they differ, and a stale read never wins over a later one.
func TestStreamCountsOfADelivery(t *testing.T) {
	now := time.Now()
	h := &Hub{cfg: Config{Clock: func() time.Time { return now }}, ordered: true}
	st := &stream{hub: h, sub: &subscriber{userID: "u"}}
	events := func() string {
		var names []string
		for _, line := range strings.Split(string(st.buf), "\n") {
			if name, ok := strings.CutPrefix(line, "event: "); ok {
				names = append(names, name)
			} else if data, ok := strings.CutPrefix(line, "data: "); ok && names[len(names)-1] == "counts" {
				names[len(names)-1] += " " + data
			}
		}
		st.buf = st.buf[:0]
		return strings.Join(names, "; ")
	}
	st.add(&message{counts: map[store.Channel]int{store.ChannelMessage: 2}, seq: 1})
	if got, want := events(), `counts {"alert":0,"header_message":0,"message":2}`; got != want {
		t.Fatalf("start: %s, want %s", got, want)
	}
	later, past := now.Add(time.Hour), now.Add(-time.Second)
	item := func(id int64, ch store.Channel) store.InboxItem {
		return store.InboxItem{ID: id, EventID: 1, UserID: "u", Channel: ch, CreatedAt: now, VisibleAt: now}
	}
	hidden, expired, read := item(5, store.ChannelMessage), item(6, store.ChannelMessage), item(7, store.ChannelAlert)
	hidden.VisibleAt, expired.ExpiresAt, read.ReadAt = later, &past, &now
	st.add(&message{items: []store.InboxItem{item(3, store.ChannelMessage), item(4, store.ChannelAlert), hidden, expired, read}})
	if got, want := events(), `notification; notification; notification; notification; notification; counts {"alert":1,"header_message":0,"message":3}`; got != want {
		t.Errorf("delivery: %s, want %s", got, want)
	}
	st.add(&message{counts: map[store.Channel]int{store.ChannelMessage: 3, store.ChannelAlert: 1}, seq: 2, followUp: true})
	if got := events(); got != "" {
		t.Errorf("follow-up with the same counts: %s, want nothing", got)
	}
	// Something the delivery could not foresee: the follow-up corrects it.
	st.add(&message{counts: map[store.Channel]int{store.ChannelMessage: 2, store.ChannelAlert: 1}, seq: 3, followUp: true})
	if got, want := events(), `counts {"alert":1,"header_message":0,"message":2}`; got != want {
		t.Errorf("follow-up with other counts: %s, want %s", got, want)
	}
	st.add(&message{counts: map[store.Channel]int{store.ChannelMessage: 9}, seq: 2})
	if got := events(); got != "" {
		t.Errorf("counts read before the last sent: %s, want nothing", got)
	}
	// An item seen already adds nothing.
	st.add(&message{items: []store.InboxItem{item(4, store.ChannelAlert)}})
	if got := events(); got != "" {
		t.Errorf("an item sent already: %s, want nothing", got)
	}
}
