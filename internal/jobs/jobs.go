package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

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
	// Queues are the queues this process works besides the default one,
	// with how many jobs of each run at once (a queue with 0 is not
	// worked). Jobs of a queue no process works wait in it.
	Queues map[string]int
	// RescueAfter is how long a job may stay running before River takes
	// it for dead and makes it available again: a little more than the
	// longest timeout of any job kind (every worker sets one). Zero keeps
	// River's default of one hour.
	RescueAfter time.Duration
}

// New returns a Queue on the store's database. workers holds every worker
// the process may run; a process that only inserts still passes them, so
// that job kinds are checked.
func New(st store.Store, workers *river.Workers, cfg Config) (Queue, error) {
	switch s := st.(type) {
	case *sqlite.Store:
		drv := newSQLiteDriver(riversqlite.New(s.DB()))
		// The listener wakes the workers at once for this process's jobs
		// (wake.go): polling for jobs is only for other processes'.
		cfg.PollInterval = max(cfg.PollInterval, fetchPoll)
		c, err := newClient(drv, workers, cfg, func(tx store.Tx) (*sql.Tx, bool) {
			t, ok := tx.(*sqlite.Tx)
			if !ok {
				return nil, false
			}
			return t.SQLTx(), true
		})
		if err != nil {
			return nil, err
		}
		c.kick = drv.kicks.kick
		return c, nil
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
	logger *slog.Logger
	// kick, when set, has the workers of a queue look for jobs at once:
	// once a transaction that inserted a job there commits, or when
	// promote made one available (SQLite, wake.go).
	kick func(queue string)
	// promoteWake wakes promote for a job scheduled soon.
	promoteWake chan struct{}

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

func newClient[TTx any](driver riverdriver.Driver[TTx], workers *river.Workers, cfg Config, unwrap func(store.Tx) (TTx, bool)) (*client[TTx], error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(cfg.Workers, 1)}}
	for name, n := range cfg.Queues {
		if n > 0 {
			queues[name] = river.QueueConfig{MaxWorkers: n}
		}
	}
	rc, err := river.NewClient(driver, &river.Config{
		Queues:            queues,
		Workers:           workers,
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchCooldown:     min(100*time.Millisecond, cfg.PollInterval),
		FetchPollInterval: cfg.PollInterval,
		// River logs every job error at error level; our workers log what
		// matters themselves.
		Logger:               logger.With("component", "river"),
		MaxAttempts:          10,
		RescueStuckJobsAfter: cfg.RescueAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &client[TTx]{river: rc, unwrap: unwrap, logger: logger, promoteWake: make(chan struct{}, 1)}, nil
}

func (c *client[TTx]) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	// A transaction wrapped for memory's sake (dispatch's batches) says
	// what is beneath.
	for {
		w, ok := tx.(interface{ Unwrap() store.Tx })
		if !ok {
			break
		}
		tx = w.Unwrap()
	}
	raw, ok := c.unwrap(tx)
	if !ok {
		return fmt.Errorf("jobs: insert %s: transaction %T is not of this store", args.Kind(), tx)
	}
	if _, err := c.river.InsertTx(ctx, raw, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	after, _ := tx.(interface{ OnCommit(func()) })
	if c.kick != nil && after != nil {
		queue := river.QueueDefault
		if a, ok := args.(river.JobArgsWithInsertOpts); ok && a.InsertOpts().Queue != "" {
			queue = a.InsertOpts().Queue
		}
		if opts != nil && opts.Queue != "" {
			queue = opts.Queue
		}
		after.OnCommit(func() { c.kick(queue) })
	}
	if opts != nil && !opts.ScheduledAt.IsZero() && time.Until(opts.ScheduledAt) < promoteCap {
		wake := func() {
			select {
			case c.promoteWake <- struct{}{}:
			default:
			}
		}
		if after != nil {
			after.OnCommit(wake)
		} else {
			wake()
		}
	}
	return nil
}

func (c *client[TTx]) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop == nil {
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c.stop, c.done = cancel, make(chan struct{})
		go c.promote(pctx)
	}
	return nil
}

func (c *client[TTx]) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
		<-c.done
		c.stop = nil
	}
	c.mu.Unlock()
	if err := c.river.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// promoteCap is the longest promote sleeps: the bound on how late a job
// another process scheduled is made available.
const promoteCap = time.Second

// promote makes scheduled and retryable jobs available as soon as they are
// due. River's own scheduler does this every 5 seconds, which would publish
// an event up to 5 seconds late. This loop sleeps until the earliest
// scheduled job it saw, at most promoteCap, or until this process
// schedules one sooner (InsertTx).
func (c *client[TTx]) promote(ctx context.Context) {
	defer close(c.done)
	const page = 100
	timer := time.NewTimer(0)
	defer timer.Stop()
	params := river.NewJobListParams().
		States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).
		First(page)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-c.promoteWake:
		}
		wait := promoteCap
		res, err := c.river.JobList(ctx, params)
		if err != nil {
			if ctx.Err() == nil {
				c.logger.WarnContext(ctx, "jobs: list due jobs", "err", err)
			}
			res = &river.JobListResult{}
		}
		now := time.Now()
		var queues []string
		promoted := 0
		for _, job := range res.Jobs {
			if job.ScheduledAt.After(now) {
				wait = min(wait, job.ScheduledAt.Sub(now))
				break
			}
			promoted++
			if _, err := c.river.JobRetry(ctx, job.ID); err != nil && ctx.Err() == nil {
				c.logger.WarnContext(ctx, "jobs: promote due job", "job_id", job.ID, "err", err)
				continue
			}
			if !slices.Contains(queues, job.Queue) {
				queues = append(queues, job.Queue)
			}
		}
		if promoted == page {
			wait = 0 // more may be due
		}
		if c.kick != nil {
			for _, q := range queues {
				c.kick(q)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(wait, time.Millisecond))
	}
}
