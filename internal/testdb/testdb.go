package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by PostgresURL.
const (
	// EnvPostgresURL names the PostgreSQL server tests use.
	EnvPostgresURL = "CLOCHE_TEST_POSTGRES_URL"
	// EnvRequireAll set to 1 turns "database not reachable" skips into failures.
	EnvRequireAll = "CLOCHE_TEST_REQUIRE_ALL"
	// DefaultPostgresURL is used when EnvPostgresURL is not set.
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// Backend is a database kind tests can run on.
type Backend struct {
	Name string                  // "sqlite" or "postgres", as store.Store.Backend says
	URL  func(testing.TB) string // a fresh, empty database for this test
}

// Backends returns every backend: sqlite, then postgres.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", URL: SQLiteURL},
		{Name: "postgres", URL: PostgresURL},
	}
}

// SQLiteURL returns a "sqlite:" URL of a new database file in t.TempDir().
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "cloche.db")
}

// PostgresURL returns the URL of a new, empty schema (t_<random hex>) of
// the test PostgreSQL server, selected by a search_path query parameter.
// The schema and everything in it are dropped when t ends. When the server
// cannot be reached, t is skipped, or fails if CLOCHE_TEST_REQUIRE_ALL=1.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		base = DefaultPostgresURL
	}
	shown := redact(base)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s=%q is not a URL: %v", EnvPostgresURL, shown, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := connect(ctx, base)
	if err != nil {
		if os.Getenv(EnvRequireAll) == "1" {
			t.Fatalf("PostgreSQL not reachable at %s (%s=1 makes this a failure): %v", shown, EnvRequireAll, err)
		}
		t.Skipf("PostgreSQL not reachable at %s (set %s; %s=1 makes this a failure): %v",
			shown, EnvPostgresURL, EnvRequireAll, err)
	}
	defer conn.Close(context.Background())

	schema := "t_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testdb: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx, base)
		if err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// connect opens one connection, giving up after a short time.
func connect(ctx context.Context, rawURL string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = 3 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

// redact hides the password of a URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
