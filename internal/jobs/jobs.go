package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// Queue inserts jobs and runs workers.
type Queue interface {
	// InsertTx inserts a job inside tx, a transaction of the same store.
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
	// Start starts the workers and periodic jobs; Stop waits for running
	// jobs to end (or ctx to be done).
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Config tunes River.
type Config struct {
	Workers      int
	PollInterval time.Duration
	PeriodicJobs []*river.PeriodicJob
	Logger       *slog.Logger
}

// New returns a Queue on the store's database. workers holds every worker
// the process may run; a process that only inserts still passes them, so
// that job kinds are checked.
func New(st store.Store, workers *river.Workers, cfg Config) (Queue, error) {
	switch s := st.(type) {
	case *sqlite.Store:
		return newClient(riversqlite.New(s.DB()), workers, cfg, func(tx store.Tx) (*sql.Tx, bool) {
			t, ok := tx.(*sqlite.Tx)
			if !ok {
				return nil, false
			}
			return t.SQLTx(), true
		})
	case *postgres.Store:
		return newClient(riverpgxv5.New(s.Pool()), workers, cfg, func(tx store.Tx) (pgx.Tx, bool) {
			t, ok := tx.(interface{ PgxTx() pgx.Tx })
			if !ok {
				return nil, false
			}
			return t.PgxTx(), true
		})
	}
	return nil, fmt.Errorf("jobs: no River driver for store %T", st)
}

type client[TTx any] struct {
	river  *river.Client[TTx]
	unwrap func(store.Tx) (TTx, bool)
}

func newClient[TTx any](driver riverdriver.Driver[TTx], workers *river.Workers, cfg Config, unwrap func(store.Tx) (TTx, bool)) (*client[TTx], error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(cfg.Workers, 1)}},
		Workers:           workers,
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchCooldown:     min(100*time.Millisecond, cfg.PollInterval),
		FetchPollInterval: cfg.PollInterval,
		// River logs every job error at error level; our workers log what
		// matters themselves.
		Logger:      logger.With("component", "river"),
		MaxAttempts: 10,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &client[TTx]{river: rc, unwrap: unwrap}, nil
}

func (c *client[TTx]) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	raw, ok := c.unwrap(tx)
	if !ok {
		return fmt.Errorf("jobs: insert %s: transaction %T is not of this store", args.Kind(), tx)
	}
	if _, err := c.river.InsertTx(ctx, raw, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

func (c *client[TTx]) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

func (c *client[TTx]) Stop(ctx context.Context) error {
	if err := c.river.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}
