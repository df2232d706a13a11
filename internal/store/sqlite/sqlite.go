package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cloche/cloche/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas are set on every connection. _time_format=sqlite makes time.Time
// values comparable as text; _txlock=immediate takes the write lock at BEGIN,
// so that two processes never deadlock upgrading a read transaction. A 32 MB
// page cache per connection keeps large fan-outs from re-reading index pages.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-32000)&_pragma=temp_store(memory)&_time_format=sqlite"

// Store is a SQLite database. Writes go through one connection; reads
// outside transactions use a separate pool.
type Store struct {
	queries
	path   string
	wdb    *sql.DB
	rdb    *sql.DB
	ckdb   *sql.DB // the checkpointer's own connection
	logger *slog.Logger
	// Prepared statements of the writer and of the read pool.
	wstmts, rstmts *stmtCache

	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
}

// IsURL reports whether dsn names a SQLite database: a `sqlite:` or `file:`
// URL, or anything that is not a postgres URL.
func IsURL(dsn string) bool {
	return !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://")
}

// Path returns the file path that a database URL names.
func Path(dsn string) string {
	p := dsn
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(p, prefix) {
			p = strings.TrimPrefix(p, prefix)
			break
		}
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return p
}

// InMemory reports whether dsn names an in-memory database, which no file
// holds.
func InMemory(dsn string) bool {
	p := Path(dsn)
	return p == ":memory:" || strings.Contains(dsn, "mode=memory")
}

// Open opens (creating if needed) the SQLite database that dsn names: a file
// path, or a `sqlite:` URL. Call Migrate before use.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	path := Path(dsn)
	if path == "" {
		return nil, fmt.Errorf("sqlite: %w", store.Invalid("database_url", "names no file"))
	}
	if dir := filepath.Dir(path); dir != "." {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
		}
	}
	base := "file:" + path + "?" + pragmas
	// The writer does not checkpoint the WAL itself (after a large commit
	// that would copy every page it wrote back into the database before
	// returning); a connection of its own does it in the background.
	wdb, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	// Readers keep SQLite's default page cache (2 MB): a write by another
	// connection empties a reader's cache at its next read, and with
	// modernc's allocator freeing (and refilling) a 32 MB cache page by
	// page cost that read 150-400 ms; 2 MB costs about 15 ms.
	rbase := "file:" + path + "?" + strings.Replace(pragmas, "_pragma=cache_size(-32000)", "_pragma=cache_size(-2000)", 1)
	rdb, err := sql.Open("sqlite", rbase+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)
	ckdb, err := sql.Open("sqlite", base)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	ckdb.SetMaxOpenConns(1)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{path: path, wdb: wdb, rdb: rdb, ckdb: ckdb, logger: logger,
		wstmts: newStmtCache(wdb), rstmts: newStmtCache(rdb)}
	s.queries = queries{r: poolStmts{s.rstmts}, w: poolStmts{s.wstmts}, begin: s.begin, stmts: s.wstmts}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopCheckpoints, s.checkpointsDone = cancel, make(chan struct{})
	go s.checkpoint(ctx, time.Second)
	return s, nil
}

// checkpoint copies the WAL back into the database every interval, without
// blocking writers or readers (PASSIVE), so that the WAL stays small and no
// commit pays for it.
func (s *Store) checkpoint(ctx context.Context, interval time.Duration) {
	defer close(s.checkpointsDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.ckdb.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "sqlite: checkpoint", "err", err)
		}
	}
}

// Migrate applies Cloche's migrations, then River's.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrateOurs(ctx); err != nil {
		return err
	}
	return s.migrateRiver(ctx)
}

// migrateOurs applies Cloche's migrations.
func (s *Store) migrateOurs(ctx context.Context) error {
	sub, err := fsSub()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.wdb, sub)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// migrateRiver applies the job queue's migrations.
func (s *Store) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(riversqlite.New(s.wdb), nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate river: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("sqlite: migrate river: %w", err)
	}
	return nil
}

// MigrationsPending reports whether Cloche's migrations are not all applied.
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	sub, err := fsSub()
	if err != nil {
		return false, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.rdb, sub)
	if err != nil {
		return false, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p.HasPending(ctx)
}

func fsSub() (fs.FS, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return sub, nil
}

// DB returns the writer connection pool (one connection), for River.
func (s *Store) DB() *sql.DB { return s.wdb }

// Backend implements store.Store.
func (s *Store) Backend() string { return "sqlite" }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: %w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.stopCheckpoints()
	<-s.checkpointsDone
	// A last checkpoint; PASSIVE, so that another process reading the
	// database does not hold this one up.
	_, ckErr := s.ckdb.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	if ckErr != nil {
		ckErr = fmt.Errorf("sqlite: final checkpoint: %w", ckErr)
	}
	return errors.Join(ckErr, s.wstmts.close(), s.rstmts.close(), s.ckdb.Close(), s.rdb.Close(), s.wdb.Close())
}

// InTx implements store.Store.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	sqlTx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer s.wstmts.prepareMissed(context.WithoutCancel(ctx))
	txq := txStmts{tx: sqlTx, c: s.wstmts}
	tx := &Tx{queries: queries{r: txq, w: txq, inTx: true, stmts: s.wstmts}, tx: sqlTx}
	if err := fn(ctx, tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			s.logger.WarnContext(ctx, "sqlite: rollback failed", "err", rbErr)
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr("commit", err)
	}
	for _, fn := range tx.after {
		fn()
	}
	return nil
}

// ReadTx implements store.Store, on one connection of the read pool.
func (s *Store) ReadTx(ctx context.Context, fn func(ctx context.Context, q store.Queries) error) error {
	// The read pool is query_only and BEGIN is deferred: the snapshot is
	// taken at the first read.
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin read", err)
	}
	// Through the read pool's statement cache: the realtime hub reads
	// in a read transaction at every delivery and for every batch of
	// streams opening, and parsing its queries anew each time cost more
	// than running them. What was missed is prepared once the
	// transaction has given its connection back.
	defer s.rstmts.prepareMissed(context.WithoutCancel(ctx))
	defer func() { _ = tx.Rollback() }()
	txq := txStmts{tx: tx, c: s.rstmts}
	return fn(ctx, &queries{r: txq, w: txq, inTx: true})
}

func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr("begin", err)
	}
	return tx, nil
}

// Tx is a store.Tx on SQLite. SQLTx exposes the transaction so that River
// jobs can be inserted in it.
type Tx struct {
	queries
	tx *sql.Tx
	// after run once the transaction committed (OnCommit).
	after []func()
}

// OnCommit has fn run once the transaction commits (not if it rolls
// back): the jobs queue wakes its workers so.
func (t *Tx) OnCommit(fn func()) { t.after = append(t.after, fn) }

// SQLTx returns the underlying transaction.
func (t *Tx) SQLTx() *sql.Tx { return t.tx }

// mapErr wraps err with the operation and maps it to the store sentinels.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrInUse, err)
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_READONLY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// ts is how every time is stored: UTC, to the microsecond, so that both
// backends agree and text comparisons in SQLite hold.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func timePtr(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}
