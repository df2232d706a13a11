package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

var _ store.StatsGatherer = (*Store)(nil)

// directoryTables are the tables a directory import or sync writes.
var directoryTables = []string{"users", "user_groups", "companies", "company_members"}

// DirectoryWritten implements store.StatsGatherer.
func (s *Store) DirectoryWritten(ctx context.Context, rows int) error {
	return s.analyzeStale(ctx, rows, directoryTables)
}

// analyzeStale runs ANALYZE on those of tables (of the current schema)
// that were never analysed, or whose last statistics counted too few rows
// for rows written since: what autovacuum would do after its naptime (50
// rows and 10 % of the table), done now. Without it, the statements that
// follow a bulk load are planned as for empty tables: a fan-out to a
// 10-member group read the whole users table (BENCHMARKS.md, "Writes on
// PostgreSQL").
func (s *Store) analyzeStale(ctx context.Context, rows int, tables []string) error {
	if rows <= 0 {
		return nil
	}
	qrows, err := s.pool.Query(ctx, `
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])
    AND (c.reltuples < 0 OR $2 >= 50 + 0.1 * c.reltuples)
ORDER BY c.relname`, tables, rows)
	if err != nil {
		return fmt.Errorf("postgres: statistics: %w", mapErr(err, ""))
	}
	stale, err := pgx.CollectRows(qrows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: statistics: %w", mapErr(err, ""))
	}
	return s.analyze(ctx, stale)
}

// analyze runs one ANALYZE of tables.
func (s *Store) analyze(ctx context.Context, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE `+strings.Join(names, ", ")); err != nil {
		return fmt.Errorf("postgres: statistics of %s: %w", strings.Join(tables, ", "), mapErr(err, ""))
	}
	s.logger.DebugContext(ctx, "postgres: gathered statistics", "tables", tables)
	return nil
}

// analyzeFilled runs ANALYZE on the tables of the current schema that hold
// data, after migrations: a migration that rewrites a table leaves it
// without statistics until autovacuum comes.
func (s *Store) analyzeFilled(ctx context.Context) error {
	qrows, err := s.pool.Query(ctx, `
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
    AND pg_relation_size(c.oid) > 0
ORDER BY c.relname`)
	if err != nil {
		return fmt.Errorf("postgres: statistics: %w", mapErr(err, ""))
	}
	tables, err := pgx.CollectRows(qrows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: statistics: %w", mapErr(err, ""))
	}
	return s.analyze(ctx, tables)
}
