package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// gateWriter is a ResponseWriter whose writes block while its gate is shut,
// as a client that stops reading makes them.
type gateWriter struct {
	header http.Header
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	shut   chan struct{} // closed: writes block on open
	open   chan struct{}
}

func (w *gateWriter) Header() http.Header { return w.header }
func (w *gateWriter) WriteHeader(int)     {}
func (w *gateWriter) Flush()              {}

func (w *gateWriter) Write(p []byte) (int, error) {
	select {
	case <-w.shut:
		<-w.open
	default:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

func (w *gateWriter) output() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String(), w.writes
}

// A stream whose client stops reading falls behind, is skipped by the hub,
// and catches up from the database once it can write again: every
// notification arrives, once, in order.
func TestStreamCatchesUpAfterFallingBehind(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, testdb.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := New(st, Config{Buffer: 1, PollInterval: 10 * time.Millisecond, KeepAlive: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Open()
	hctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); h.Run(hctx) }()
	defer func() { stop(); <-ran }()
	ev := &store.Event{Key: "message:internal", Title: "Hi", Recipients: store.Recipients{UserIDs: []string{"u"}},
		Status: store.EventPublished, CreatedAt: time.Now()}
	if err := st.EventInsert(ctx, ev); err != nil {
		t.Fatal(err)
	}
	add := func() {
		t.Helper()
		if _, err := st.NotificationInsertMany(ctx, &store.NotificationInsertManyParams{EventID: ev.ID, Channel: store.ChannelMessage,
			UserIDs: []string{"u"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		h.Wake()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
		}
	}

	w := &gateWriter{header: http.Header{}, shut: make(chan struct{}), open: make(chan struct{})}
	rctx, hangUp := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		h.ServeStream(w, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(rctx), "u")
	}()
	defer func() { hangUp(); <-served }()
	waitFor("the first counts", func() bool { _, n := w.output(); return n > 0 })
	close(w.shut)

	var sub *subscriber
	h.mu.Lock()
	for s := range h.users["u"] {
		sub = s
	}
	h.mu.Unlock()
	added := 0
	waitFor("the stream to fall behind", func() bool {
		add()
		added++
		return sub.lagged.Load()
	})
	for range 5 { // skipped by the hub: the stream is behind
		add()
		added++
	}
	close(w.open)
	add()
	added++

	want := 0
	waitFor("every notification", func() bool {
		out, _ := w.output()
		return strings.Count(out, "event: notification\n") == added
	})
	// The last counts event may follow the last notification.
	waitFor("the final counts", func() bool {
		out, _ := w.output()
		return strings.HasSuffix(out, `"message":`+itoa(added)+"}\n\n")
	})
	out, _ := w.output()
	var last int64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || !strings.Contains(data, `"event_id"`) {
			continue
		}
		var it store.InboxItem
		if err := json.Unmarshal([]byte(data), &it); err != nil {
			t.Fatal(err)
		}
		if it.ID <= last {
			t.Errorf("notification %d after %d: repeated or out of order", it.ID, last)
		}
		last = it.ID
		want++
	}
	if want != added {
		t.Errorf("%d notifications on the stream, want %d", want, added)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
