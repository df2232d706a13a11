package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// maxBatch bounds how many notifies share one commit.
const maxBatch = 256

// batchTimeout bounds one shared transaction.
const batchTimeout = 30 * time.Second

// batcher is group commit: notifies that arrive while a transaction is
// being written wait, then run together in the next one, each in a
// savepoint of its own. A notify that fails rolls back to its savepoint
// and only its caller sees the error; the others commit. If the commit
// itself fails, every caller of the batch gets the error and nothing of
// the batch is written. So each notify stays all or nothing, and commits
// (the costly part on SQLite, which writes them one at a time) are shared.
//
// No goroutine runs while nothing is queued: the first notify of a burst
// starts the loop, which ends when the queue is empty.
type batcher struct {
	st  store.Store
	max int

	mu    sync.Mutex
	queue []*batchItem
	busy  bool
}

type batchItem struct {
	fn    func(ctx context.Context, tx store.Tx) error
	state atomic.Int32 // itemWaiting, itemTaken or itemAbandoned
	err   error
	done  chan struct{}
}

const (
	itemWaiting = iota
	itemTaken
	itemAbandoned
)

func newBatcher(st store.Store, maxItems int) *batcher {
	return &batcher{st: st, max: maxItems}
}

// do runs fn in the next shared transaction and returns its error, or the
// commit's. If ctx ends before the batch takes fn, fn does not run; once
// taken, do waits for the outcome, so that the caller never reports a
// failure for a notify that was committed.
func (b *batcher) do(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	it := &batchItem{fn: fn, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, it)
	if !b.busy {
		b.busy = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-it.done:
		return it.err
	case <-ctx.Done():
		if it.state.CompareAndSwap(itemWaiting, itemAbandoned) {
			return ctx.Err()
		}
		<-it.done
		return it.err
	}
}

func (b *batcher) loop() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), b.max)
		items := make([]*batchItem, 0, n)
		for _, it := range b.queue[:n] {
			if it.state.CompareAndSwap(itemWaiting, itemTaken) {
				items = append(items, it)
			}
		}
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()
		if len(items) > 0 {
			b.commit(items)
		}
	}
}

func (b *batcher) commit(items []*batchItem) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	errs := make([]error, len(items))
	err := b.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i, it := range items {
			errs[i] = tx.Savepoint(ctx, recovered(it.fn))
		}
		return nil
	})
	for i, it := range items {
		it.err = errs[i]
		if err != nil {
			it.err = errors.Join(err, errs[i])
		}
		close(it.done)
	}
}

// recovered turns a panic of fn into its error: fn runs on the batch's
// goroutine, where nothing else would recover it.
func recovered(fn func(ctx context.Context, tx store.Tx) error) func(ctx context.Context, tx store.Tx) error {
	return func(ctx context.Context, tx store.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("notify panicked: %v", r)
			}
		}()
		return fn(ctx, tx)
	}
}
