package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/testdb"
)

// listen runs ListenFeed until the end of the test and returns its signals.
func listen(t *testing.T, s interface {
	ListenFeed(context.Context, func(), func(store.FeedSignal)) error
}) <-chan store.FeedSignal {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan store.FeedSignal, 100)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.ListenFeed(ctx, func() { close(ready) }, func(sig store.FeedSignal) { signals <- sig })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("ListenFeed ended with %v, want context.Canceled", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("ListenFeed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenFeed is not ready after 10s")
	}
	return signals
}

func next(t *testing.T, signals <-chan store.FeedSignal) store.FeedSignal {
	t.Helper()
	select {
	case sig := <-signals:
		return sig
	case <-time.After(10 * time.Second):
		t.Fatal("no feed signal within 10s")
	}
	return store.FeedSignal{}
}

// Writers signal what they wrote on commit, in commit order, and nothing
// when they roll back.
func TestListenFeed(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.PostgresURL(t))
	other := open(t, testdb.PostgresURL(t)) // another schema of the same database
	signals := listen(t, s)
	otherSignals := listen(t, other)
	// A marker: what comes before it was committed before it.
	mark := func() {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, `SELECT pg_notify($1, 'r')`, s.FeedChannel()); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"u1", "u2", "u3"} {
		if err := s.UserUpsert(ctx, &store.User{ID: u, Active: true, Groups: []string{"g"}}); err != nil {
			t.Fatal(err)
		}
	}
	ev := &store.Event{Key: "message:internal", Title: "Hi", Recipients: store.Recipients{GroupNames: []string{"g"}},
		Status: store.EventPending, CreatedAt: time.Now()}
	if err := s.EventInsert(ctx, ev); err != nil {
		t.Fatal(err)
	}

	t.Run("fan-out on commit", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			n, err := tx.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: ev.ID, Channel: store.ChannelMessage,
				GroupNames: []string{"g"}, CreatedAt: time.Now()})
			if err != nil || n != 3 {
				t.Fatalf("fan-out: %d, %v", n, err)
			}
			mark()
			if sig := next(t, signals); sig.Kind != store.SignalResync {
				t.Fatalf("before commit: signal %+v, want the marker first", sig)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sig := next(t, signals)
		if sig.Kind != store.SignalNotifications || sig.Range.EventID != ev.ID {
			t.Fatalf("signal %+v, want the fan-out of event %d", sig, ev.ID)
		}
		items, err := s.NotificationFeed(ctx, &store.NotificationFeedParams{Ranges: []store.FeedRange{sig.Range}})
		if err != nil || len(items) != 3 || items[0].ID != sig.Range.FirstID || items[2].ID != sig.Range.LastID {
			t.Fatalf("feed of the range %+v: %d items, %v", sig.Range, len(items), err)
		}
	})

	t.Run("nothing on rollback", func(t *testing.T) {
		errNo := errors.New("no")
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: ev.ID, Channel: store.ChannelMessage,
				UserIDs: []string{"u1"}, CreatedAt: time.Now()}); err != nil {
				return err
			}
			return errNo
		})
		if !errors.Is(err, errNo) {
			t.Fatal(err)
		}
		mark()
		if sig := next(t, signals); sig.Kind != store.SignalResync {
			t.Fatalf("signal %+v of a rolled back fan-out", sig)
		}
	})

	t.Run("changes", func(t *testing.T) {
		items, err := s.NotificationFeed(ctx, &store.NotificationFeedParams{UserIDs: []string{"u2"}})
		if err != nil || len(items) != 1 {
			t.Fatalf("u2's feed: %d, %v", len(items), err)
		}
		now := time.Now()
		steps := []func() error{
			func() error {
				return s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u2", ID: items[0].ID, ReadAt: &now})
			},
			func() error {
				return s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u2", ID: items[0].ID})
			},
			func() error {
				return s.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "u2", ID: items[0].ID, Until: now.Add(time.Hour)})
			},
			func() error {
				_, err := s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "u1", At: now})
				return err
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		log, err := s.ChangeList(ctx, &store.ChangeListParams{})
		if err != nil || len(log) != len(steps) {
			t.Fatalf("change log: %d entries, %v", len(log), err)
		}
		for _, c := range log {
			sig := next(t, signals)
			if sig.Kind != store.SignalChange || sig.ChangeID != c.ID || sig.UserID != c.UserID {
				t.Errorf("signal %+v, want change %d of %s", sig, c.ID, c.UserID)
			}
		}
		long := strings.Repeat("x", 2000)
		if err := s.UserUpsert(ctx, &store.User{ID: long, Active: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: ev.ID, Channel: store.ChannelAlert,
			UserIDs: []string{long}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		next(t, signals)
		if _, err := s.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: long, At: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if sig := next(t, signals); sig.Kind != store.SignalChange || sig.UserID != "" || sig.ChangeID == 0 {
			t.Errorf("signal %+v of a change of a user with a long id, want one without the id", sig)
		}
	})

	t.Run("bulk insert asks for a resync", func(t *testing.T) {
		if _, err := s.NotificationInsertMany(ctx, &store.NotificationInsertManyParams{EventID: ev.ID, Channel: store.ChannelMessage,
			UserIDs: []string{"u3"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if sig := next(t, signals); sig.Kind != store.SignalResync {
			t.Errorf("signal %+v, want a resync", sig)
		}
	})

	// The other schema heard nothing of all this.
	if _, err := other.Pool().Exec(ctx, `SELECT pg_notify($1, 'c:42:someone')`, other.FeedChannel()); err != nil {
		t.Fatal(err)
	}
	if sig := next(t, otherSignals); sig.Kind != store.SignalChange || sig.ChangeID != 42 {
		t.Errorf("the other schema's first signal is %+v, want its own", sig)
	}

	t.Run("a batch's publication: one range per event", func(t *testing.T) {
		var evs []*store.Event
		var p store.EventPublishManyParams
		for range 2 {
			e := &store.Event{Key: "message:internal", Title: "Due", Recipients: store.Recipients{GroupNames: []string{"g"}},
				Status: store.EventPending, CreatedAt: time.Now()}
			if err := s.EventInsert(ctx, e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
			p.Events = append(p.Events, store.EventPublication{EventID: e.ID, Channel: store.ChannelMessage, GroupNames: []string{"g"}})
		}
		p.At = time.Now()
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			counts, err := tx.EventPublishMany(ctx, &p)
			if err != nil || counts[evs[0].ID] != 3 || counts[evs[1].ID] != 3 {
				t.Fatalf("publish: %v, %v", counts, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			sig := next(t, signals)
			if sig.Kind != store.SignalNotifications || sig.Range.EventID != e.ID {
				t.Fatalf("signal %+v, want the fan-out of event %d", sig, e.ID)
			}
			items, err := s.NotificationFeed(ctx, &store.NotificationFeedParams{Ranges: []store.FeedRange{sig.Range}})
			if err != nil || len(items) != 3 || items[0].ID != sig.Range.FirstID || items[2].ID != sig.Range.LastID {
				t.Fatalf("feed of the range %+v: %d items, %v", sig.Range, len(items), err)
			}
		}
	})
}
