package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/store"
)

// How publish jobs survive the death of the process running them.
//
// A publish job claims its event for PublishLease before anything else
// (publishDue). While the claim holds, another job for the event (a
// duplicate, or the dead job rescued by River) does nothing; once the event
// is published, cancelled or expired, every job for it does nothing. When
// the process holding a claim dies, the claim lapses and Sweep, run every
// SweepInterval by each serving process, hands the event back to the queue
// with a new job. An event whose job was taken by a process that died before
// it could claim the event is handed back once it has been due for a lease.
// So a crash delays a due event by at most PublishLease + SweepInterval.
const (
	// SweepInterval is how often Sweep runs.
	SweepInterval = 5 * time.Second
	// sweepBatch is how many events one transaction of Sweep hands back.
	sweepBatch = 500
	// leaseMargin is the part of the lease beyond check_url's timeout: the
	// reading and writing around it.
	leaseMargin = 10 * time.Second
	// PurgeTimeout bounds one purge job; what is left waits for the next.
	PurgeTimeout = time.Minute
)

// PublishLease is how long a publish job holds its event, and how long it
// may run: check_url's timeout plus the work around it.
func (d *Dispatcher) PublishLease() time.Duration {
	return d.cfg.CheckTimeout + leaseMargin
}

// JobTimeout is the longest any of the dispatcher's jobs may run.
func (d *Dispatcher) JobTimeout() time.Duration {
	return max(d.PublishLease(), PurgeTimeout)
}

// Rescued is how many events Sweep handed back to the queue in this process.
func (d *Dispatcher) Rescued() int64 { return d.rescued.Load() }

// Sweep hands back to the queue every due event no live job is on (see
// above), each with a new publish job in the same transaction, and returns
// how many.
func (d *Dispatcher) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		var ids []int64
		now := d.now()
		err := d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			ids, err = tx.EventClaimDue(ctx, &store.EventClaimDueParams{
				Now: now, NeverClaimedBefore: now.Add(-d.PublishLease()), Limit: sweepBatch,
			})
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := d.queue.InsertTx(ctx, tx, PublishArgs{EventID: id}, &river.InsertOpts{MaxAttempts: d.cfg.CheckMaxAttempts}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("hand back stranded events: %w", err)
		}
		if len(ids) > 0 {
			d.rescued.Add(int64(len(ids)))
			d.logger.WarnContext(ctx, "handed back events whose publication stopped with its process", "count", len(ids), "ids", ids)
		}
		total += len(ids)
		if len(ids) < sweepBatch {
			return total, nil
		}
	}
}

// RunSweeps runs Sweep every SweepInterval until ctx is done.
func (d *Dispatcher) RunSweeps(ctx context.Context) {
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
			d.logger.WarnContext(ctx, "sweep", "err", err)
		}
	}
}

// claim takes event id for the job about to publish it. It reports false
// when there is nothing for this job to do: the event is no longer pending,
// another job holds it, or it is gone.
func (d *Dispatcher) claim(ctx context.Context, id int64) (bool, error) {
	now := d.now()
	ok, err := d.store.EventClaim(ctx, &store.EventClaimParams{ID: id, Now: now, Until: now.Add(d.PublishLease())})
	if err != nil {
		return false, fmt.Errorf("claim event %d: %w", id, err)
	}
	return ok, nil
}

// release hands event id back to the job's own retry, even when the job's
// context has ended; if it fails, the claim lapses and Sweep hands it back.
func (d *Dispatcher) release(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.store.EventRelease(ctx, id); err != nil {
		d.logger.WarnContext(ctx, "publish: release event", "event_id", id, "err", err)
	}
}
