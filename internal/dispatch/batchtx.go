package dispatch

import (
	"context"

	"github.com/cloche/cloche/internal/store"
)

// batchTx is a transaction publishing a batch of due events: the types
// and preference summaries it reads are read once per key, since nothing
// in the batch changes them. The jobs queue reaches the transaction
// beneath through Unwrap.
type batchTx struct {
	store.Tx
	types map[string]*store.NotificationType
	sums  map[string]*store.PreferenceSummary
	// events are the batch's events, read in one query, each handed out
	// once by EventGet.
	events map[int64]*store.Event
}

func newBatchTx(tx store.Tx) *batchTx {
	return &batchTx{Tx: tx, types: map[string]*store.NotificationType{}, sums: map[string]*store.PreferenceSummary{}}
}

// preload reads the events of ids in one query.
func (b *batchTx) preload(ctx context.Context, ids []int64) error {
	evs, err := b.Tx.EventGetMany(ctx, ids)
	if err != nil {
		return err
	}
	b.events = make(map[int64]*store.Event, len(evs))
	for i := range evs {
		b.events[evs[i].ID] = &evs[i]
	}
	return nil
}

func (b *batchTx) EventGet(ctx context.Context, id int64) (*store.Event, error) {
	if ev, ok := b.events[id]; ok {
		delete(b.events, id)
		return ev, nil
	}
	return b.Tx.EventGet(ctx, id)
}

// Unwrap is the transaction beneath.
func (b *batchTx) Unwrap() store.Tx { return b.Tx }

func (b *batchTx) TypeGet(ctx context.Context, key string) (*store.NotificationType, error) {
	if t, ok := b.types[key]; ok {
		c := *t
		return &c, nil
	}
	t, err := b.Tx.TypeGet(ctx, key)
	if err != nil {
		return nil, err
	}
	c := *t
	b.types[key] = &c
	return t, nil
}

func (b *batchTx) PreferenceSummary(ctx context.Context, key string) (*store.PreferenceSummary, error) {
	if s, ok := b.sums[key]; ok {
		return s, nil
	}
	s, err := b.Tx.PreferenceSummary(ctx, key)
	if err != nil {
		return nil, err
	}
	b.sums[key] = s
	return s, nil
}

// Savepoint runs fn in a savepoint of the transaction beneath, still
// through the memory of the batch.
func (b *batchTx) Savepoint(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return b.Tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, &batchTx{Tx: tx, types: b.types, sums: b.sums})
	})
}
