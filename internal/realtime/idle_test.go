package realtime

import (
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// TestPollEvery: a polling hub looks at the feed every PollInterval while
// streams are open and once a second while none is; the first stream wakes
// it, so that it does not wait out the idle interval.
func TestPollEvery(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, testdb.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, c := range []struct {
		poll, idle, open time.Duration
	}{
		{250 * time.Millisecond, time.Second, 250 * time.Millisecond},
		{10 * time.Millisecond, time.Second, 10 * time.Millisecond},
		{1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond}, // never faster when idle
	} {
		h, err := New(st, Config{PollInterval: c.poll}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.Open()
		if got := h.pollEvery(); got != c.idle {
			t.Errorf("poll %s, no stream: every %s, want %s", c.poll, got, c.idle)
		}
		s, _, err := h.subscribe("u")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.wake:
		default:
			t.Errorf("poll %s: the first stream did not wake the hub", c.poll)
		}
		if got := h.pollEvery(); got != c.open {
			t.Errorf("poll %s, a stream: every %s, want %s", c.poll, got, c.open)
		}
		s2, _, err := h.subscribe("v")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.wake:
			t.Errorf("poll %s: the second stream woke the hub again", c.poll)
		default:
		}
		h.unsubscribe(s)
		h.unsubscribe(s2)
		if got := h.pollEvery(); got != c.idle {
			t.Errorf("poll %s, streams closed: every %s, want %s", c.poll, got, c.idle)
		}
	}
}
