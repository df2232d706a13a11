package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/cloche/cloche/internal/store"
)

// defaultConnectTimeout bounds each connection attempt when the URL does
// not say (connect_timeout=seconds).
const defaultConnectTimeout = 10 * time.Second

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Store is a Cloche store on a PostgreSQL database. Its Queries run on the
// pool, each in its own statement (or its own transaction when a method
// needs several statements).
type Store struct {
	queries
	pool   *pgxpool.Pool
	logger *slog.Logger
	url    string // redacted, for messages
}

// Tx is a Store seen from inside a transaction started by InTx.
type Tx struct {
	queries
	tx pgx.Tx
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Tx    = (*Tx)(nil)
)

// Open connects to the PostgreSQL database at rawURL (postgres:// or
// postgresql://) and checks that it answers. A database that cannot be
// reached gives an error matching store.ErrUnavailable. Open does not
// migrate: call Migrate. logger may be nil.
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	redacted := RedactURL(rawURL)
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, fmt.Errorf("postgres: open %s: %w", redacted,
			store.Invalid("url", "must start with postgres:// or postgresql://"))
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("postgres: open %s: %w", redacted, store.Invalid("url", "%v", err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", redacted, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w: %w", redacted, store.ErrUnavailable, err)
	}
	logger.Debug("postgres: connected", "url", redacted)
	var schema string
	if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", redacted, mapErr(err, ""))
	}
	return &Store{
		queries: queries{db: pool, feed: feedChannel(schema)},
		pool:    pool,
		logger:  logger,
		url:     redacted,
	}, nil
}

// redactKV masks password=... in key/value connection strings.
var (
	redactKV     = regexp.MustCompile(`password=('[^']*'|[^ &]*)`)
	redactBroken = regexp.MustCompile(`(://[^:/@]*):[^@]*@`)
)

// RedactURL returns the connection URL s with its password replaced by
// "xxxxx", in the user info and in password/sslpassword query parameters,
// so that it can be logged or shown in an error.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		s = redactBroken.ReplaceAllString(s, "$1:xxxxx@")
		return redactKV.ReplaceAllString(s, "password=xxxxx")
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// Migrate brings the schema up to date: Cloche's migrations, then River's.
// It holds a session-level advisory lock (keyed on the current schema) for
// the whole run, so processes starting together migrate one after another.
func (s *Store) Migrate(ctx context.Context) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", mapErr(err, ""))
	}
	defer conn.Release()

	const lockKey = `hashtextextended('cloche.migrate:' || coalesce(current_schema(), ''), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", mapErr(err, ""))
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+lockKey+`)`); uerr != nil {
			// Closing the session is the other way to release the lock.
			_ = conn.Conn().Close(uctx)
			if err == nil {
				err = fmt.Errorf("postgres: migrate: unlock: %w", uerr)
			}
		}
	}()

	if err := s.migrateGoose(ctx); err != nil {
		return err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return fmt.Errorf("postgres: migrate: river: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("postgres: migrate: river: %w", err)
	}
	for _, v := range res.Versions {
		s.logger.Info("postgres: applied river migration", "version", v.Version, "name", v.Name)
	}
	return nil
}

// MigrationsPending reports whether some of Cloche's migrations are not
// applied yet.
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	provider, err := s.gooseProvider(db)
	if err != nil {
		return false, err
	}
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: migrations: %w", err)
	}
	return pending, nil
}

func (s *Store) gooseProvider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return provider, nil
}

func (s *Store) migrateGoose(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	provider, err := s.gooseProvider(db)
	if err != nil {
		return err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, r := range results {
		s.logger.Info("postgres: applied migration", "version", r.Source.Version,
			"file", r.Source.Path, "duration", r.Duration)
	}
	if len(results) > 0 {
		// Statistics, for the tables with data, are not left to
		// autovacuum's timing.
		if err := s.analyzeFilled(ctx); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	return nil
}

// Pool returns the connection pool, for River.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// WriteLanes is how many transactions of batched writes should run at
// once: all the pool's connections but one (kept for reads and the job
// queue), between 1 and 8. Fewer lanes than connections made group
// notifies slower on a loaded machine than one transaction per notify on
// every connection (BENCHMARKS.md, "Writes on PostgreSQL").
func (s *Store) WriteLanes() int {
	return min(max(int(s.pool.Config().MaxConns)-1, 1), 8)
}

// Backend returns "postgres".
func (s *Store) Backend() string { return "postgres" }

// Ping checks that the database answers; it fails with store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping %s: %w: %w", s.url, store.ErrUnavailable, err)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// InTx runs fn in one transaction, committing when fn returns nil and
// rolling back otherwise (fn's error is returned as it is). The store.Tx
// given to fn is a *Tx.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", mapErr(err, ""))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	t := &Tx{queries: queries{db: tx, inTx: true, feed: s.feed, ranges: new([]store.FeedRange)}, tx: tx}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if err := t.flushSignals(ctx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapErr(err, ""))
	}
	return nil
}

// ReadTx runs fn in one read-only, repeatable-read transaction: its reads
// all see the same snapshot.
func (s *Store) ReadTx(ctx context.Context, fn func(ctx context.Context, q store.Queries) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", mapErr(err, ""))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(ctx, &queries{db: tx, inTx: true, feed: s.feed})
}

// PgxTx returns the pgx transaction, to insert River jobs in it.
func (t *Tx) PgxTx() pgx.Tx { return t.tx }

// dbtx is what both *pgxpool.Pool and pgx.Tx offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

// queries implements store.Queries on a pool or a transaction.
type queries struct {
	db   dbtx
	inTx bool
	feed string // the NOTIFY channel of the realtime feed (feed.go)
	// ranges, in a transaction begun by InTx, are the fan-outs' id ranges
	// to signal when it commits (signalRange); nil elsewhere.
	ranges *[]store.FeedRange
}

// atomic runs fn so that its statements all happen or none: in the
// caller's transaction when there is one, else in a new one.
func (q *queries) atomic(ctx context.Context, fn func(q *queries) error) error {
	if q.inTx {
		return fn(q)
	}
	return pgx.BeginFunc(ctx, q.db, func(tx pgx.Tx) error {
		return fn(&queries{db: tx, inTx: true, feed: q.feed})
	})
}

// ts normalises a time for storage: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsOrNow is ts(t), or now when t is zero.
func tsOrNow(t time.Time) time.Time {
	if t.IsZero() {
		return ts(time.Now())
	}
	return ts(t)
}

// tsPtr normalises an optional time.
func tsPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// utcPtr converts a time read from the database to UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// nullString maps "" to NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// limit applies a default and a maximum to a page size.
func limit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}
