package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/storetest"
	"github.com/cloche/cloche/internal/testdb"
)

// open opens and migrates a store on url, closed when t ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, testdb.PostgresURL(t))
	})
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	url := testdb.PostgresURL(t)
	fresh, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if pending, err := fresh.MigrationsPending(t.Context()); err != nil || !pending {
		t.Errorf("MigrationsPending on an empty schema = %v, %v; want true", pending, err)
	}
	stores := make([]*postgres.Store, 4)
	for i := range stores {
		s, err := postgres.Open(t.Context(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	if err := stores[0].Migrate(t.Context()); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
	if pending, err := stores[0].MigrationsPending(t.Context()); err != nil || pending {
		t.Errorf("MigrationsPending after Migrate = %v, %v; want false", pending, err)
	}
	types, err := stores[0].TypeList(t.Context())
	if err != nil || len(types) != 21 {
		t.Errorf("TypeList after migrations = %d types, %v; want 21", len(types), err)
	}
	// River's tables are in the test's schema too.
	var n int
	err = stores[0].Pool().QueryRow(t.Context(),
		`SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'river_job'`).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("river_job in the current schema: %d, %v; want 1", n, err)
	}
}

func TestTxExposesPgxTx(t *testing.T) {
	s := open(t, testdb.PostgresURL(t))
	if s.Backend() != "postgres" {
		t.Errorf("Backend() = %q", s.Backend())
	}
	err := s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		ptx, ok := tx.(interface{ PgxTx() pgx.Tx })
		if !ok {
			t.Fatalf("%T has no PgxTx method", tx)
		}
		if err := tx.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}); err != nil {
			return err
		}
		var name string
		if err := ptx.PgxTx().QueryRow(ctx, `SELECT name FROM companies WHERE id = 'acme'`).Scan(&name); err != nil {
			return err
		}
		if name != "ACME" {
			t.Errorf("name through PgxTx = %q", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	const url = "postgres://cloche:s3cret-pw@127.0.0.1:1/cloche?sslmode=disable&connect_timeout=2"
	_, err := postgres.Open(t.Context(), url, nil)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open = %v, want store.ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error shows the password: %v", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error does not name the server: %v", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{"mysql://x@y/z", "/tmp/cloche.db"} {
		if _, err := postgres.Open(t.Context(), url, nil); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want store.ErrInvalid", url, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@db:5432/cloche?sslmode=disable", "postgres://u:xxxxx@db:5432/cloche?sslmode=disable"},
		{"postgresql://u@db/cloche", "postgresql://u@db/cloche"},
		{"postgres://db/cloche?password=secret&sslmode=require", "postgres://db/cloche?password=xxxxx&sslmode=require"},
		{"postgres://u:p%40ss@db/cloche", "postgres://u:xxxxx@db/cloche"},
		{"host=db user=u password=secret dbname=cloche", "host=db user=u password=xxxxx dbname=cloche"},
		{"postgres://u:sec ret@db:x/%zz", "postgres://u:xxxxx@db:x/%zz"},
	}
	for _, tc := range tests {
		if got := postgres.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// EventLockDue's hold lasts while the client speaks: the transaction's
// idle timeout is the lease, and only the transaction's.
func TestEventLockDueIdleTimeout(t *testing.T) {
	s := open(t, testdb.PostgresURL(t))
	now := time.Now()
	err := s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.EventLockDue(ctx, &store.EventClaimBatchParams{Now: now, Until: now.Add(25 * time.Second), Limit: 10}); err != nil {
			return err
		}
		var v string
		if err := tx.(interface{ PgxTx() pgx.Tx }).PgxTx().QueryRow(ctx, `SHOW idle_in_transaction_session_timeout`).Scan(&v); err != nil {
			return err
		}
		if v != "25s" {
			t.Errorf("idle_in_transaction_session_timeout in the transaction = %q, want 25s", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := s.Pool().QueryRow(t.Context(), `SHOW idle_in_transaction_session_timeout`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v == "25s" {
		t.Errorf("the idle timeout outlived the transaction")
	}
}
