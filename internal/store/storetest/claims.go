package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// claimEvent inserts a pending event due at due.
func claimEvent(t *testing.T, s store.Store, due time.Time) *store.Event {
	t.Helper()
	return newEvent(t, s, func(e *store.Event) { e.DueAt = &due })
}

// checkedEvent inserts a pending event with a check_url, due at due: such
// events have a publish job each, which EventClaimDue hands back.
func checkedEvent(t *testing.T, s store.Store, due time.Time) *store.Event {
	t.Helper()
	return newEvent(t, s, func(e *store.Event) { e.DueAt = &due; e.CheckURL = "https://host.test/check" })
}

func testEventClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	claim := func(id int64, now, until time.Duration) bool {
		t.Helper()
		ok, err := s.EventClaim(ctx, &store.EventClaimParams{ID: id, Now: at(now), Until: at(until)})
		must(t, err)
		return ok
	}
	ev := claimEvent(t, s, at(time.Minute))
	cases := []struct {
		name       string
		now, until time.Duration
		want       bool
	}{
		{"first claim", time.Minute, time.Minute + 20*time.Second, true},
		{"held by a running lease", time.Minute + 10*time.Second, 2 * time.Minute, false},
		{"lease lapsed", time.Minute + 20*time.Second, time.Minute + 40*time.Second, true},
		{"held again", time.Minute + 30*time.Second, 2 * time.Minute, false},
	}
	for _, c := range cases {
		if got := claim(ev.ID, c.now, c.until); got != c.want {
			t.Errorf("%s: EventClaim = %v, want %v", c.name, got, c.want)
		}
	}
	must(t, s.EventRelease(ctx, ev.ID))
	if !claim(ev.ID, time.Minute+31*time.Second, 2*time.Minute) {
		t.Error("EventClaim after EventRelease = false, want true")
	}

	done := claimEvent(t, s, at(time.Minute))
	must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: done.ID, Status: store.EventCancelled, Reason: "test", At: at(time.Minute)}))
	if claim(done.ID, time.Minute, 2*time.Minute) {
		t.Error("EventClaim of a cancelled event = true, want false")
	}
	if claim(1<<40, time.Minute, 2*time.Minute) {
		t.Error("EventClaim of a missing event = true, want false")
	}
	must(t, s.EventRelease(ctx, 1<<40))
}

func testEventClaimDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	due := func(limit int) []int64 {
		t.Helper()
		ids, err := s.EventClaimDue(ctx, &store.EventClaimDueParams{Now: now, NeverClaimedBefore: now.Add(-20 * time.Second), Limit: limit})
		must(t, err)
		return ids
	}
	var (
		neverOld   = checkedEvent(t, s, now.Add(-time.Minute))    // stranded before its first claim
		neverNew   = checkedEvent(t, s, now.Add(-10*time.Second)) // its job is on its way
		lapsed     = checkedEvent(t, s, now.Add(-30*time.Second))
		held       = checkedEvent(t, s, now.Add(-30*time.Second))
		released   = checkedEvent(t, s, now.Add(-time.Minute)) // waits for its retry
		notDue     = checkedEvent(t, s, now.Add(time.Minute))
		cancelled  = checkedEvent(t, s, now.Add(-time.Minute))
		notDueHeld = checkedEvent(t, s, now.Add(time.Minute))
		batched    = claimEvent(t, s, now.Add(-time.Minute)) // no check_url: the due loop's
	)
	_ = batched
	for _, c := range []struct {
		ev    *store.Event
		until time.Time
	}{
		{lapsed, now.Add(-time.Second)},
		{held, now.Add(10 * time.Second)},
		{released, now.Add(time.Hour)},
		{notDueHeld, now.Add(-time.Second)},
	} {
		ok, err := s.EventClaim(ctx, &store.EventClaimParams{ID: c.ev.ID, Now: *c.ev.DueAt, Until: c.until})
		must(t, err)
		if !ok {
			t.Fatalf("EventClaim(%d) = false", c.ev.ID)
		}
	}
	must(t, s.EventRelease(ctx, released.ID))
	must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: cancelled.ID, Status: store.EventCancelled, Reason: "test", At: now}))
	_ = neverNew
	_ = notDue

	equal(t, "EventClaimDue limit 0", due(0), []int64(nil))
	equal(t, "EventClaimDue", due(10), []int64{neverOld.ID, lapsed.ID})
	equal(t, "EventClaimDue again", due(10), []int64{})
	// A handed-back event is claimable at once by its new job.
	ok, err := s.EventClaim(ctx, &store.EventClaimParams{ID: lapsed.ID, Now: now, Until: now.Add(20 * time.Second)})
	must(t, err)
	if !ok {
		t.Error("EventClaim after EventClaimDue = false, want true")
	}
}

func testEventClaimDueConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	const total = 200
	for range total {
		checkedEvent(t, s, now.Add(-time.Minute))
	}
	var (
		mu    sync.Mutex
		seen  = map[int64]bool{}
		dupes []int64
		wg    sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for {
				var ids []int64
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					var err error
					ids, err = tx.EventClaimDue(ctx, &store.EventClaimDueParams{Now: now, NeverClaimedBefore: now, Limit: 7})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					if seen[id] {
						dupes = append(dupes, id)
					}
					seen[id] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != total || len(dupes) > 0 {
		t.Errorf("concurrent EventClaimDue handed back %d events (want %d), %d twice: %v", len(seen), total, len(dupes), dupes)
	}
}

// dueBatchEvents inserts the events a claim of due events at now sorts
// out, and returns, in order, the ids of those it must take: two due
// (one a minute ago, one now) and one whose claim lapsed; not one with a
// check_url, one not yet due, one whose claim holds, one cancelled.
func dueBatchEvents(t *testing.T, s store.Store, now time.Time) []int64 {
	t.Helper()
	ctx := t.Context()
	due1, due2 := claimEvent(t, s, now.Add(-time.Minute)), claimEvent(t, s, now)
	checkedEvent(t, s, now.Add(-time.Minute))
	claimEvent(t, s, now.Add(time.Second))
	held, lapsed := claimEvent(t, s, now.Add(-time.Minute)), claimEvent(t, s, now.Add(-time.Minute))
	cancelled := claimEvent(t, s, now.Add(-time.Minute))
	for ev, until := range map[*store.Event]time.Time{held: now.Add(time.Second), lapsed: now} {
		ok, err := s.EventClaim(ctx, &store.EventClaimParams{ID: ev.ID, Now: now.Add(-time.Minute), Until: until})
		must(t, err)
		if !ok {
			t.Fatalf("EventClaim(%d) = false", ev.ID)
		}
	}
	must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: cancelled.ID, Status: store.EventCancelled, Reason: "test", At: now}))
	ids := []int64{due1.ID, due2.ID, lapsed.ID}
	slices.Sort(ids)
	return ids
}

func testEventClaimBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	batch := func(limit int) []int64 {
		t.Helper()
		ids, err := s.EventClaimBatch(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(20 * time.Second), Limit: limit})
		must(t, err)
		return ids
	}
	due := dueBatchEvents(t, s, now)

	equal(t, "EventClaimBatch limit 0", batch(0), []int64(nil))
	first := batch(2)
	if len(first) != 2 {
		t.Fatalf("EventClaimBatch limit 2 = %v", first)
	}
	all := append(first, batch(10)...)
	slices.Sort(all)
	equal(t, "EventClaimBatch", all, due)
	equal(t, "EventClaimBatch again", batch(10), []int64{})
}

// testSavepointFanOut publishes events each in a savepoint of one
// transaction, as a batch of due events is: the fan-out (which signals the
// realtime feed on PostgreSQL) works inside a savepoint.
func testSavepointFanOut(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "u1", Active: true, Groups: []string{"manager"}}))
	evs := []*store.Event{claimEvent(t, s, at(0)), claimEvent(t, s, at(0))}
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, ev := range evs {
			err := tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: ev.ID, Channel: store.ChannelMessage,
					GroupNames: []string{"manager"}, CreatedAt: at(time.Second)})
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	must(t, err)
	items, err := s.NotificationList(ctx, &store.NotificationListParams{UserID: "u1", Now: at(time.Minute), Limit: 10})
	must(t, err)
	if len(items) != 2 {
		t.Errorf("u1 has %d notifications, want 2", len(items))
	}
}

func testEventNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	next := func(now time.Time) *time.Time {
		t.Helper()
		n, err := s.EventNextDue(ctx, now)
		must(t, err)
		return n
	}
	if n := next(now); n != nil {
		t.Fatalf("EventNextDue with no event = %v, want nil", n)
	}
	checkedEvent(t, s, now.Add(-time.Hour)) // has a job of its own
	later := claimEvent(t, s, now.Add(time.Minute))
	if n := next(now); n == nil || !n.Equal(later.DueAt.Truncate(time.Microsecond)) {
		t.Errorf("EventNextDue = %v, want %v", n, later.DueAt)
	}
	held := claimEvent(t, s, now.Add(-time.Minute))
	ok, err := s.EventClaim(ctx, &store.EventClaimParams{ID: held.ID, Now: now, Until: now.Add(10 * time.Second)})
	must(t, err)
	if !ok {
		t.Fatal("EventClaim = false")
	}
	if n := next(now); n == nil || !n.Equal(later.DueAt.Truncate(time.Microsecond)) {
		t.Errorf("EventNextDue with a held claim = %v, want %v", n, later.DueAt)
	}
	// Once the claim lapses, the event is due again.
	if n := next(now.Add(20 * time.Second)); n == nil || !n.Equal(held.DueAt.Truncate(time.Microsecond)) {
		t.Errorf("EventNextDue after the claim lapsed = %v, want %v", n, held.DueAt)
	}
	due := claimEvent(t, s, now.Add(-time.Second))
	if n := next(now); n == nil || !n.Equal(due.DueAt.Truncate(time.Microsecond)) {
		t.Errorf("EventNextDue = %v, want %v (due already)", n, due.DueAt)
	}
	evs, err := s.EventGetMany(ctx, []int64{later.ID, due.ID, 1 << 40})
	must(t, err)
	got := []int64{}
	for _, e := range evs {
		got = append(got, e.ID)
		if e.DueAt == nil || e.Status != store.EventPending {
			t.Errorf("EventGetMany: event %d = %+v", e.ID, e)
		}
	}
	slices.Sort(got)
	equal(t, "EventGetMany", got, []int64{later.ID, due.ID})
}

// EventLockDue takes what EventClaimBatch would, writes nothing, and (on
// PostgreSQL, where transactions run side by side) skips what another
// transaction holds.
func testEventLockDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	lock := func(tx store.Tx, limit int) []int64 {
		t.Helper()
		ids, err := tx.EventLockDue(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(20 * time.Second), Limit: limit})
		must(t, err)
		return ids
	}
	due := dueBatchEvents(t, s, now)
	want := due
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		equal(t, "EventLockDue limit 0", lock(tx, 0), []int64(nil))
		equal(t, "EventLockDue", lock(tx, 10), want)
		return nil
	}))
	// Nothing written: the same again.
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		equal(t, "EventLockDue again", lock(tx, 10), want)
		return nil
	}))
	if s.Backend() != "postgres" {
		return
	}
	// Two transactions at once share the due events out.
	locked, release := make(chan []int64), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			ids, err := tx.EventLockDue(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(20 * time.Second), Limit: 2})
			if err != nil {
				close(locked)
				return err
			}
			locked <- ids
			<-release
			return nil
		})
	}()
	first := <-locked
	var second []int64
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		second = lock(tx, 10)
		return nil
	}))
	close(release)
	must(t, <-done)
	all := append(slices.Clone(first), second...)
	slices.Sort(all)
	if len(first) != 2 || !slices.Equal(all, want) {
		t.Errorf("two transactions locked %v and %v, want %v shared out", first, second, want)
	}
}
