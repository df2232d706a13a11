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
	now := d.now()
	ids, err := d.store.EventClaimBatch(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(d.PublishLease()), Limit: limit})
	if err != nil || len(ids) == 0 {
		return nil, 0, err
	}
	done, err := d.publishClaimed(ctx, ids)
	return done, len(ids), err
}

// publishClaimed publishes the claimed events ids in one transaction (or,
// should one fail, each in a savepoint of its own), and returns the ids
// it published or finished.
func (d *Dispatcher) publishClaimed(ctx context.Context, ids []int64) ([]int64, error) {
	var (
		published []*store.Event
		failed    []int64
	)
	// First the whole batch in one go, the common events in a few
	// statements for all of them; should an event fail, the batch again
	// one event at a time, each in a savepoint of its own, so that the
	// others still go.
	err := d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		published = published[:0]
		btx := newBatchTx(tx)
		if err := btx.preload(ctx, ids); err != nil {
			return err
		}
		// The common events are set aside and published together at the
		// end (publishset.go); the others one by one, as they come.
		set := &setBatch{}
		for _, id := range ids {
			ev, err := d.publishOrSetTx(ctx, btx, id, set)
			switch {
			case err == nil && ev != nil:
				published = append(published, ev)
			case err == nil, errors.Is(err, errAlreadyDone):
			default:
				return err
			}
		}
		evs, err := d.publishSet(ctx, btx, set)
		published = append(published, evs...)
		return err
	})
	if err != nil && ctx.Err() == nil {
		err = d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
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
	}
	if err != nil {
		return nil, err
	}
	for _, ev := range published {
		d.logPublished(ctx, ev)
		d.afterPublish(ctx, ev)
	}
	return slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(failed, id) }), nil
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
