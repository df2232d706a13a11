package dispatch

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// publishBatch is how many due events without check_url one transaction
// publishes, unless Config.DueBatch says otherwise.
const publishBatch = 500

// publishDueBatch claims up to publishBatch due events without check_url
// (rescue.go) and publishes them in one transaction, each in a savepoint of
// its own: when many fall due at once, their publication does not wait for
// a job each. The jobs of the events published here find them published and
// do nothing. An event that fails keeps its claim until the claim lapses
// and the sweep queues it again (its own job may be done already). It
// returns the ids it published or finished.
func (d *Dispatcher) publishDueBatch(ctx context.Context) ([]int64, error) {
	ids, _, err := d.publishDueBatchN(ctx, d.dueBatch())
	return ids, err
}

// publishDueBatchN is publishDueBatch of up to limit events that also says
// how many it claimed.
func (d *Dispatcher) publishDueBatchN(ctx context.Context, limit int) ([]int64, int, error) {
	if d.cfg.DueLocks {
		return d.publishLockedBatch(ctx, limit)
	}
	now := d.now()
	ids, err := d.store.EventClaimBatch(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(d.PublishLease()), Limit: limit})
	if err != nil || len(ids) == 0 {
		return nil, 0, err
	}
	done, err := d.publishClaimed(ctx, ids)
	return done, len(ids), err
}

// publishLockedBatch is publishDueBatchN where the claim is the row locks
// of the publishing transaction (Config.DueLocks): the events are locked
// and published in one transaction, and nothing is written to claim them.
// Should the process die, its transaction ends and they are due again at
// once; should it hang, the database ends the transaction once it has been
// idle for a lease (store.EventLockDue). Should an event fail, the batch is
// claimed with a lease, as EventClaimBatch claims, and published one event
// at a time: the one that fails keeps its claim until it lapses.
func (d *Dispatcher) publishLockedBatch(ctx context.Context, limit int) ([]int64, int, error) {
	now := d.now()
	var (
		ids       []int64
		published []*store.Event
	)
	err := d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		ids, err = tx.EventLockDue(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(d.PublishLease()), Limit: limit})
		if err != nil || len(ids) == 0 {
			return err
		}
		published, err = d.publishAllTx(ctx, tx, ids)
		return err
	})
	switch {
	case err == nil:
		d.announce(ctx, published)
		return ids, len(ids), nil
	case len(ids) == 0 || ctx.Err() != nil:
		return nil, len(ids), err
	}
	now = d.now()
	claimed := make([]int64, 0, len(ids))
	for _, id := range ids {
		ok, err := d.store.EventClaim(ctx, &store.EventClaimParams{ID: id, Now: now, Until: now.Add(d.PublishLease())})
		if err != nil {
			return nil, len(ids), err
		}
		if ok {
			claimed = append(claimed, id)
		}
	}
	done, err := d.publishEach(ctx, claimed)
	return done, len(ids), err
}

// publishClaimed publishes the claimed events ids in one transaction (or,
// should one fail, each in a savepoint of its own), and returns the ids
// it published or finished.
func (d *Dispatcher) publishClaimed(ctx context.Context, ids []int64) ([]int64, error) {
	// First the whole batch in one go, the common events in a few
	// statements for all of them; should an event fail, the batch again
	// one event at a time, each in a savepoint of its own, so that the
	// others still go.
	var published []*store.Event
	err := d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		published, err = d.publishAllTx(ctx, tx, ids)
		return err
	})
	if err == nil {
		d.announce(ctx, published)
		return ids, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	return d.publishEach(ctx, ids)
}

// publishAllTx publishes the events ids inside tx, failing as a whole if
// one fails, and returns those it published.
func (d *Dispatcher) publishAllTx(ctx context.Context, tx store.Tx, ids []int64) ([]*store.Event, error) {
	var published []*store.Event
	btx := newBatchTx(tx)
	if err := btx.preload(ctx, ids); err != nil {
		return nil, err
	}
	// The common events are set aside and published together at the end
	// (publishset.go); the others one by one, as they come.
	set := &setBatch{}
	for _, id := range ids {
		ev, err := d.publishOrSetTx(ctx, btx, id, set)
		switch {
		case err == nil && ev != nil:
			published = append(published, ev)
		case err == nil, errors.Is(err, errAlreadyDone):
		default:
			return nil, err
		}
	}
	evs, err := d.publishSet(ctx, btx, set)
	if err != nil {
		return nil, err
	}
	return append(published, evs...), nil
}

// publishEach publishes the events ids in one transaction, each in a
// savepoint of its own, and returns the ids it published or finished: one
// that fails keeps its claim until the claim lapses.
func (d *Dispatcher) publishEach(ctx context.Context, ids []int64) ([]int64, error) {
	var (
		published []*store.Event
		failed    []int64
	)
	err := d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		published, failed = published[:0], failed[:0]
		btx := newBatchTx(tx)
		for _, id := range ids {
			var ev *store.Event
			err := btx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				ev, err = d.publishOneTx(ctx, tx, id)
				return err
			})
			switch {
			case err == nil && ev != nil:
				published = append(published, ev)
			case err == nil, errors.Is(err, errAlreadyDone), errors.Is(err, store.ErrConflict):
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				d.logger.WarnContext(ctx, "publish: event failed in a batch, its claim will lapse and it will be tried again", "event_id", id, "err", err)
				failed = append(failed, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.announce(ctx, published)
	return slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(failed, id) }), nil
}

// announce logs the publications of a batch that committed and tells the
// observers.
func (d *Dispatcher) announce(ctx context.Context, published []*store.Event) {
	for _, ev := range published {
		d.logPublished(ctx, ev)
		d.afterPublish(ctx, ev)
	}
}

// publishOneTx publishes pending event id inside tx, or finishes it as
// expired; it returns the event when it published it, errAlreadyDone when
// the event is no longer pending.
func (d *Dispatcher) publishOneTx(ctx context.Context, tx store.Tx, id int64) (*store.Event, error) {
	ev, err := tx.EventGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if ev.Status != store.EventPending {
		return nil, errAlreadyDone
	}
	now := d.now()
	if d.expired(ev, now) {
		return nil, tx.EventFinish(ctx, &store.EventFinishParams{ID: ev.ID, Status: store.EventExpired, Reason: "fell due after its until", At: now})
	}
	ch, err := chooseChannel(ctx, tx, ev.Key, ev.ForceChannel)
	if err != nil {
		return nil, err
	}
	ev.Channel = ch
	if _, err := d.publishTx(ctx, tx, ev, now, nil); err != nil {
		return nil, err
	}
	return ev, nil
}

// logPublished logs a scheduled event's publication and how late it was.
func (d *Dispatcher) logPublished(ctx context.Context, ev *store.Event) {
	attrs := []any{"event_id", ev.ID, "key", ev.Key, "channel", ev.Channel, "reached", ev.Counts}
	if ev.DueAt != nil {
		attrs = append(attrs, "late", d.now().Sub(*ev.DueAt).Round(time.Millisecond))
	}
	d.logger.InfoContext(ctx, "published", attrs...)
}
