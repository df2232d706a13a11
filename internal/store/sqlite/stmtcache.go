package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStatements bounds each statement cache. Queries are a fixed set
// of shapes (a few dozen); the bound only guards against a caller building
// unbounded variants.
const maxCachedStatements = 512

// stmtCache keeps statements prepared once per connection pool, so that a
// query is parsed by SQLite once instead of at every call (the parser was a
// quarter of a notify's time). The driver keeps each prepared statement's
// handle and resets it between uses.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]bool // met inside a transaction, to prepare after it
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepared returns the statement of query, preparing it on the pool when
// it is new. nil (and no error) means: run the query unprepared.
func (c *stmtCache) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.lookup(query); st != nil {
		return st, nil
	}
	c.mu.Lock()
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()
	if full {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.stmts[query]; prev != nil {
		st.Close()
		return prev, nil
	}
	c.stmts[query] = st
	return st, nil
}

// miss notes a query run inside a transaction before it was prepared.
// Preparing it then would wait for the writer connection, which the
// transaction holds; prepareMissed does it once the transaction is over.
func (c *stmtCache) miss(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stmts)+len(c.missed) < maxCachedStatements {
		c.missed[query] = true
	}
}

// prepareMissed prepares the queries met inside transactions. Failures are
// ignored: those queries keep running unprepared.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	if len(c.missed) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.missed))
	for q := range c.missed {
		queries = append(queries, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range queries {
		_, _ = c.prepared(ctx, q)
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// poolStmts runs queries on a pool through its statement cache.
type poolStmts struct{ c *stmtCache }

func (p poolStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.c.prepared(ctx, query)
	if err != nil || st == nil {
		return p.c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p poolStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.c.prepared(ctx, query)
	if err != nil || st == nil {
		return p.c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (p poolStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.c.prepared(ctx, query)
	if err != nil || st == nil {
		return p.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txStmts runs a transaction's queries through the writer's statement
// cache: a statement prepared on the writer connection is reused by every
// transaction, which runs on that same connection.
type txStmts struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.c.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	t.c.miss(query)
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.c.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	t.c.miss(query)
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.c.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	t.c.miss(query)
	return t.tx.QueryRowContext(ctx, query, args...)
}
