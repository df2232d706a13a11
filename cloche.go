package cloche

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/config"
	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/email"
	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/realtime"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/webhook"
)

// Config is every setting of Cloche; start from DefaultConfig.
type Config = config.Config

// Duration is a configuration duration; it also reads days ("90d").
type Duration = config.Duration

// DefaultConfig returns the settings used when nothing else is said: a
// SQLite database `cloche.db` in the working folder.
func DefaultConfig() Config { return config.Default() }

// Errors. Test with errors.Is; invalid input is also a *FieldError naming
// the field.
var (
	ErrNotFound    = store.ErrNotFound
	ErrConflict    = store.ErrConflict
	ErrInUse       = store.ErrInUse
	ErrInvalid     = store.ErrInvalid
	ErrUnavailable = store.ErrUnavailable
	// ErrNoDatabase: Open was told to use an existing database only
	// (ExistingOnly) and the SQLite file it names does not exist.
	ErrNoDatabase = errors.New("no database")
)

// FieldError names the input field that is wrong and why.
type FieldError = store.FieldError

// FieldErrors finds every *FieldError in err's tree: a request with
// several wrong fields fails with all of them (errors.Join).
func FieldErrors(err error) []*FieldError { return store.FieldErrors(err) }

// Service is an open Cloche: a database, and the workers that publish
// scheduled events once Start is called.
type Service struct {
	cfg    Config
	loc    *time.Location
	logger *slog.Logger
	store  store.Store
	disp   *dispatch.Dispatcher
	queue  jobs.Queue
	clock  func() time.Time
	mailer *email.Mailer
	// outbound sends the deliveries of every channel that leaves the
	// process: e-mail, push, webhooks (internal/outbound).
	outbound *outbound.Registry
	webhooks *webhook.Hooks
	access   accessState // API keys and user tokens (access.go)
	push     pushState   // VAPID keys (push.go)
	hub      *realtime.Hub
	live     liveRun // the hub's run, between Start and Stop (live.go)
	sweeps   liveRun // the sweep for stranded events, between Start and Stop (rescue.go)
	// watchers hear of changed inboxes (watch.go).
	watchers atomic.Pointer[[]InboxWatcher]
	// events keeps what inbox pages show of their events (inbox.go).
	events *store.EventCache
}

// Option changes how Open builds a Service.
type Option func(*options)

type options struct {
	logger  *slog.Logger
	clock   func() time.Time
	smtpTLS *tls.Config
	// existingOnly: do not create a SQLite file.
	existingOnly bool
}

// WithLogger sends the service's logs to l (by default they are dropped).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock replaces time.Now, for tests of time-dependent behaviour.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// ExistingOnly makes Open fail with ErrNoDatabase, rather than create it,
// when the SQLite file that cfg names does not exist: for callers that
// only read, so that they leave no empty database behind.
func ExistingOnly() Option { return func(o *options) { o.existingOnly = true } }

// Open validates cfg, opens the database it names, applies the migrations
// and returns a Service. Close it when done.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Service, error) {
	o := options{logger: slog.New(slog.DiscardHandler), clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	if o.existingOnly {
		if err := sqliteExists(cfg.DatabaseURL); err != nil {
			return nil, err
		}
	}
	st, err := openStore(ctx, cfg.DatabaseURL, o.logger)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, loc: loc, logger: o.logger, store: st, clock: o.clock, events: store.NewEventCache()}
	if err := s.init(ctx, o); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// sqliteExists fails with ErrNoDatabase when url names a SQLite file that
// does not exist (in-memory databases and PostgreSQL always exist).
func sqliteExists(url string) error {
	if !sqlite.IsURL(url) || sqlite.InMemory(url) {
		return nil
	}
	path := sqlite.Path(url)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return fmt.Errorf("%w at %s", ErrNoDatabase, path)
	}
	return nil
}

func openStore(ctx context.Context, url string, logger *slog.Logger) (store.Store, error) {
	if sqlite.IsURL(url) {
		st, err := sqlite.Open(ctx, url, logger)
		if err != nil {
			return nil, err
		}
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	st, err := postgres.Open(ctx, url, logger)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// writeLanes is how many shared notify transactions may be written at
// once: one on SQLite, a few on PostgreSQL.
func writeLanes(st store.Store) int {
	if p, ok := st.(*postgres.Store); ok {
		return p.WriteLanes()
	}
	return 1
}

func (s *Service) init(ctx context.Context, o options) error {
	s.disp = dispatch.New(s.store, dispatch.Config{
		FallbackGroups:   s.cfg.FollowerFallbackGroups,
		CheckTimeout:     s.cfg.Check.Timeout.D(),
		CheckMaxAttempts: s.cfg.Check.MaxAttempts,
		CheckRetryBase:   s.cfg.Check.RetryBase.D(),
		ReadRetention:    s.cfg.ReadRetention.D(),
		PurgeInterval:    s.cfg.Scheduler.PurgeInterval.D(),

		MaxAttachmentSize: int64(s.cfg.Email.MaxAttachmentSize),
		Zone:              s.loc,
		SigningKey:        s.hostSigningKey,
		PollInterval:      duePoll(s.store.Backend(), s.cfg.Scheduler.PollInterval.D()),
		// SQLite writes one transaction at a time; PostgreSQL runs
		// several side by side, their round trips overlapping.
		DuePublishers: duePublishers(s.store.Backend()),
		DueBatch:      dueBatch(s.store.Backend()),
		// On PostgreSQL a batch is claimed by its row locks, in the
		// transaction that publishes it (SQLite's one writer gains
		// nothing from it: its claims cost no round trip).
		DueLocks: s.store.Backend() == "postgres",
		// SQLite writes one transaction at a time, PostgreSQL commits
		// the transactions that NOTIFY one at a time: concurrent
		// notifies share commits instead of queueing for them
		// (BENCHMARKS.md, "Writes on PostgreSQL").
		BatchCommits:    true,
		BatchLanes:      writeLanes(s.store),
		BatchOptimistic: s.store.Backend() == "postgres",
	}, s.logger)
	s.disp.SetClock(o.clock)
	mc := mailerConfig(s.cfg, o.smtpTLS)
	mc.Zone = s.loc
	mailer, err := email.New(s.store, mc, s.logger)
	if err != nil {
		return err
	}
	mailer.SetClock(o.clock)
	s.mailer = mailer
	s.outbound = outbound.NewRegistry(s.store, s.logger)
	if err := s.addChannels(o); err != nil {
		return err
	}
	s.outbound.SetClock(o.clock)
	workers := river.NewWorkers()
	if err := s.disp.Register(workers); err != nil {
		return err
	}
	if err := s.mailer.Register(workers); err != nil {
		return err
	}
	if err := s.outbound.Register(workers); err != nil {
		return err
	}
	q, err := jobs.New(s.store, workers, jobs.Config{
		Workers:      s.cfg.Scheduler.Workers,
		PollInterval: s.cfg.Scheduler.PollInterval.D(),
		PeriodicJobs: slices.Concat(s.disp.PeriodicJobs(), s.mailer.PeriodicJobs(), s.outbound.PeriodicJobs()),
		Logger:       s.logger,
		Queues:       s.outbound.Queues(),
		// Every job kind has a timeout: a job running longer than the
		// longest belonged to a process that died.
		RescueAfter: max(s.disp.JobTimeout(), s.outbound.JobTimeout()) + 5*time.Second,
	})
	if err != nil {
		return err
	}
	s.queue = q
	s.disp.SetQueue(q)
	s.mailer.SetQueue(q)
	s.outbound.SetQueue(q)
	s.disp.SetMailer(s.mailer)
	return s.initLive(o)
}

// duePoll is how often a process looks for due events other processes
// scheduled. On SQLite, where one process serves, once a second: its own
// are known when it schedules them, and an idle process stays idle.
func duePoll(backend string, poll time.Duration) time.Duration {
	if backend == "sqlite" {
		return max(poll, time.Second)
	}
	return poll
}

// duePublishers is how many batches of due events a process publishes at
// once on backend (BenchmarkDueBurst).
func duePublishers(backend string) int {
	if backend == "postgres" {
		return 4
	}
	return 1
}

// dueBatch is how many due events a batch holds on backend: on
// PostgreSQL, smaller batches spread a burst over the publishers.
func dueBatch(backend string) int {
	if backend == "postgres" {
		return 250
	}
	return 500
}

// Start runs the workers: scheduled events are published when due, failed
// checks retried, e-mails sent (when a mail server is configured: what is
// due is sent at once), old notifications purged. Several processes may run them
// on one PostgreSQL database; each event is still published once.
//
// Start also runs the hub of live streams (Streamer).
func (s *Service) Start(ctx context.Context) error {
	s.mailer.WarnUnconfigured(ctx)
	if err := s.queue.Start(ctx); err != nil {
		return err
	}
	s.startLive(ctx)
	s.startSweeps(ctx)
	return wrap("start outbound channels", s.outbound.Start(ctx))
}

// Stop ends the live streams, stops the workers, waiting for running jobs
// until ctx is done, and closes the connections to the mail server.
func (s *Service) Stop(ctx context.Context) error {
	s.stopLive()
	s.stopSweeps()
	err := s.queue.Stop(ctx)
	s.outbound.Close()
	s.mailer.Close()
	return err
}

// Close releases the database. Stop the workers first if they run.
func (s *Service) Close() error {
	s.stopLive()
	return s.store.Close()
}

// Ping checks the database answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Backend names the database in use: "sqlite" or "postgres".
func (s *Service) Backend() string { return s.store.Backend() }

// Config returns the settings the service runs with.
func (s *Service) Config() Config { return s.cfg }

// Location is the configured time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Purge deletes read notifications older than the retention now, as the
// periodic job does.
func (s *Service) Purge(ctx context.Context) (int, error) { return s.disp.Purge(ctx) }

// wrap is the one place where the service's errors become what their
// user reads (store.UserError): field errors bare, refusals in the words
// of what names (`event 29 is already cancelled`, `user "42" not found`),
// never the backend's.
func wrap(what string, err error) error { return store.UserError(what, err) }
