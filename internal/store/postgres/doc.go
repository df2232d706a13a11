// Package postgres is Cloche's PostgreSQL store: the scale-out backend that
// several `cloche serve` processes share.
//
// Open connects a pgx pool from a postgres:// URL; Migrate applies Cloche's
// embedded goose migrations and River's own, one process at a time. Tables
// are created unqualified, so a search_path given in the URL
// (?search_path=tenant) keeps everything, River's tables included, in that
// schema.
//
// Every store.Queries method runs either on the pool (Store) or inside a
// transaction (Tx, from InTx). Tx also exposes the underlying pgx.Tx so that
// River jobs can be inserted in the same transaction. Times are stored and
// returned in UTC, truncated to microseconds, PostgreSQL's precision.
package postgres
