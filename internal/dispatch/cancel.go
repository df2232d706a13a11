package dispatch

import (
	"context"
	"fmt"

	"github.com/cloche/cloche/internal/store"
)

// Cancel cancels a pending event. Cancelling an event that is no longer
// pending is a conflict that says what it became.
func (d *Dispatcher) Cancel(ctx context.Context, id int64) error {
	err := d.store.EventFinish(ctx, &store.EventFinishParams{
		ID: id, Status: store.EventCancelled, Reason: "cancelled by id", At: d.now(),
	})
	if err != nil {
		return err
	}
	d.logger.InfoContext(ctx, "event cancelled", "event_id", id)
	return nil
}

// CancelByContext cancels the pending events about c (only those of key,
// when key is not empty) and returns their ids.
func (d *Dispatcher) CancelByContext(ctx context.Context, c Context, key string) ([]int64, error) {
	if c.Type == "" || c.ID == "" {
		return nil, store.Invalid("context", "needs both a type and an id")
	}
	ids, err := d.store.EventCancelPending(ctx, &store.EventCancelPendingParams{
		ContextType: c.Type, ContextID: c.ID, Key: key, Reason: "cancelled by context " + c.String(), At: d.now(),
	})
	if err != nil {
		return nil, fmt.Errorf("cancel events of %s: %w", c.String(), err)
	}
	d.logger.InfoContext(ctx, "events cancelled", "context", c.String(), "ids", ids)
	return ids, nil
}
