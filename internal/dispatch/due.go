package dispatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// How scheduled events without check_url are published.
//
// They have no job of their own. Each serving process runs RunDue: it
// sleeps until the earliest due time it knows of, then claims every event
// due by then (up to publishBatch per statement, FOR UPDATE SKIP LOCKED on
// PostgreSQL, so that processes share a burst without waiting on one
// another) and publishes the claimed ones in one transaction
// (publishbatch.go). It looks again at least every poll interval, for what
// other processes scheduled, and at once when this process schedules an
// event due before then (Notify wakes it). A claim lasts PublishLease: the
// events a dead process claimed are claimed again, by any process, once
// it lapses, so a crash delays them by at most PublishLease plus the poll
// interval. When every due event is held by another process, the loop
// looks again after 10 ms, then backs off (heldBackoff). With Config.DueLocks (PostgreSQL) the claim is the row locks of
// the publishing transaction instead (publishLockedBatch): a crash ends it
// and its events are due again at once. Events with a check_url keep a publish job each (workers.go):
// asking the host may take seconds, and must not hold up the others.

// minDueWait keeps the loop from spinning when the next due time is now
// but nothing could be claimed (held by a process that has not finished).
const minDueWait = 10 * time.Millisecond

// heldBackoff is how long RunDue waits after it found events due that
// another process holds, the held-th time in a row: 10 ms, then twice as
// long each time, up to poll. A batch another process publishes is
// usually committed within a few waits; one held by a process that went
// silent (row locks, until its idle timeout ends the hold) is not looked
// at a hundred times a second meanwhile.
func heldBackoff(held int, poll time.Duration) time.Duration {
	wait := minDueWait
	for i := 1; i < held && wait < poll; i++ {
		wait *= 2
	}
	return min(wait, max(poll, minDueWait))
}

// RunDue publishes due events without check_url until ctx is done,
// looking at least every Config.PollInterval.
func (d *Dispatcher) RunDue(ctx context.Context) {
	poll := d.duePoll()
	timer := time.NewTimer(0)
	defer timer.Stop()
	held := 0 // rounds in a row that found due events held elsewhere
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.dueWake:
		}
		wait, heldElsewhere := d.dueRound(ctx, poll)
		if heldElsewhere {
			held++
			wait = heldBackoff(held, poll)
		} else {
			held = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// dueRound publishes what is due now, and returns how long to sleep, and
// whether it stopped on events due that another process holds.
func (d *Dispatcher) dueRound(ctx context.Context, poll time.Duration) (time.Duration, bool) {
	for {
		now := d.now()
		next, err := d.store.EventNextDue(ctx, now)
		if err != nil {
			if ctx.Err() == nil {
				d.logger.WarnContext(ctx, "due events: find the next", "err", err)
			}
			return poll, false
		}
		if next == nil {
			return poll, false
		}
		if wait := next.Sub(now); wait > 0 {
			return min(max(wait, minDueWait), poll), false
		}
		n, err := d.publishDueAll(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.logger.WarnContext(ctx, "due events: publish", "err", err)
			}
			return poll, false
		}
		if n == 0 {
			// Due, but claimed by another process meanwhile.
			return minDueWait, true
		}
	}
}

// publishDueAll publishes batches until one comes back short, and returns
// how many events it claimed.
// With Config.DuePublishers above one, as many publish at once, each
// claiming its own batches: where the database runs transactions side by
// side (PostgreSQL), its round trips overlap.
func (d *Dispatcher) publishDueAll(ctx context.Context) (int, error) {
	publishers := max(d.cfg.DuePublishers, 1)
	var (
		total atomic.Int64
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
	)
	for range publishers {
		wg.Go(func() {
			for {
				_, claimed, err := d.publishDueBatchN(ctx, d.dueBatch())
				total.Add(int64(claimed))
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if claimed < d.dueBatch() {
					return
				}
			}
		})
	}
	wg.Wait()
	return int(total.Load()), errors.Join(errs...)
}

// dueBatch is how many due events one transaction publishes.
func (d *Dispatcher) dueBatch() int {
	if d.cfg.DueBatch > 0 {
		return d.cfg.DueBatch
	}
	return publishBatch
}

// duePoll is how often RunDue looks for what other processes scheduled.
func (d *Dispatcher) duePoll() time.Duration {
	if d.cfg.PollInterval > 0 {
		return d.cfg.PollInterval
	}
	return 250 * time.Millisecond
}

// wakeDue tells RunDue that an event falls due at due: it looks again at
// once if that is before its next poll.
func (d *Dispatcher) wakeDue(due time.Time) {
	if due.Sub(d.now()) >= d.duePoll() {
		return
	}
	select {
	case d.dueWake <- struct{}{}:
	default:
	}
}
