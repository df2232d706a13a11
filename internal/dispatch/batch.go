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
// starts a loop, which ends when the queue is empty. Up to lanes loops run
// at once, each writing a transaction of its own: on SQLite one (it writes
// one transaction at a time anyway); on PostgreSQL a few, so that one
// batch's statements go on while another's commit is flushed.
//
// The calls of one transaction read each notification type and each
// preference summary once (batchTx): notifies change neither.
//
// With optimistic set, a batch first runs its calls without savepoints (on
// PostgreSQL, each is two round trips); if one fails, that attempt is
// rolled back whole and the batch runs again, each call in its savepoint.
type batcher struct {
	st         store.Store
	max        int
	lanes      int
	optimistic bool

	mu      sync.Mutex
	queue   []*batchItem
	running int
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

func newBatcher(st store.Store, maxItems, lanes int, optimistic bool) *batcher {
	return &batcher{st: st, max: maxItems, lanes: max(lanes, 1), optimistic: optimistic}
}

// errRetrySavepoints rolls back an optimistic attempt in which a call
// failed.
var errRetrySavepoints = errors.New("a call of the batch failed: run again in savepoints")

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
	if b.running < b.lanes {
		b.running++
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
			b.running--
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
	if b.optimistic {
		err := b.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			btx := newBatchTx(tx)
			for _, it := range items {
				if err := recovered(it.fn)(ctx, btx); err != nil {
					if len(items) == 1 {
						return err // alone, its error is the batch's
					}
					return errRetrySavepoints
				}
			}
			return nil
		})
		if !errors.Is(err, errRetrySavepoints) {
			for _, it := range items {
				it.err = err
				close(it.done)
			}
			return
		}
	}
	err := b.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		btx := newBatchTx(tx)
		for i, it := range items {
			errs[i] = btx.Savepoint(ctx, recovered(it.fn))
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
