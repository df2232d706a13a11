package dispatch

import (
	"context"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// queuePush queues, in the transaction that wrote an event's push
// notifications, one push delivery per browser their people subscribed,
// and starts their sending once it commits. A person without a browser
// subscribed keeps the notification (listed with the others) and gets no
// push.
func (d *Dispatcher) queuePush(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time) error {
	targets, err := tx.PushTargets(ctx, ev.ID)
	if err != nil || len(targets) == 0 {
		return err
	}
	n, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{
		EventID: ev.ID, Channel: store.OutboundPush, Recipients: targets, CreatedAt: now})
	if err != nil {
		return err
	}
	if n > 0 && d.pusher != nil {
		return d.pusher.EnqueueTx(ctx, tx, ev.ID)
	}
	return nil
}
