package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// openStore opens a fresh, migrated store of backend b.
func openStore(t *testing.T, b testdb.Backend) store.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st interface {
			store.Store
			Migrate(context.Context) error
		}
		err error
	)
	if b.Name == "sqlite" {
		st, err = sqlite.Open(ctx, b.URL(t), nil)
	} else {
		st, err = postgres.Open(ctx, b.URL(t), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// The batcher gives each call its own outcome: a failing or panicking call
// writes nothing and fails alone; the others in its batch commit. So on
// both backends, with one lane and savepoints from the start (as on
// SQLite) and with several lanes, optimistic (as on PostgreSQL).
func TestBatcherOutcomes(t *testing.T) {
	for _, be := range testdb.Backends() {
		for _, mode := range []struct {
			name       string
			lanes      int
			optimistic bool
		}{{"savepoints", 1, false}, {"optimistic", 4, true}} {
			t.Run(be.Name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				testBatcherOutcomes(t, openStore(t, be), newBatcher(nil, 8, mode.lanes, mode.optimistic))
			})
		}
	}
}

func testBatcherOutcomes(t *testing.T, st store.Store, b *batcher) {
	ctx := context.Background()
	b.st = st
	errBoom := errors.New("boom")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.do(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CompanyUpsert(ctx, &store.Company{ID: fmt.Sprint(i), Name: "c", Active: true}); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errBoom
				case 2:
					panic("kaboom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		_, getErr := st.CompanyGet(ctx, fmt.Sprint(i))
		switch i % 3 {
		case 0:
			if err != nil || getErr != nil {
				t.Errorf("call %d: %v, company %v; want committed", i, err, getErr)
			}
		case 1:
			if !errors.Is(err, errBoom) || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("call %d: %v, company %v; want its own error and nothing written", i, err, getErr)
			}
		case 2:
			if err == nil || !strings.Contains(err.Error(), "kaboom") || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("call %d: %v, company %v; want the panic as its error and nothing written", i, err, getErr)
			}
		}
	}
	// The loop has ended: a new call starts it again.
	if err := b.do(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.CompanyUpsert(ctx, &store.Company{ID: "late", Name: "c", Active: true})
	}); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	queued := len(b.queue)
	b.mu.Unlock()
	if queued != 0 {
		t.Errorf("%d calls left queued", queued)
	}
}

// When the shared transaction fails (here: it cannot begin), the calls of
// the batch fail.
func TestBatcherCommitFailure(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, testdb.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close() // every transaction now fails to begin
	b := newBatcher(st, 8, 1, false)
	err = b.do(ctx, func(ctx context.Context, tx store.Tx) error { return nil })
	if err == nil {
		t.Fatal("a batch on a closed database succeeded")
	}
}
