package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// CloneEvent copies pending event id n times in the database at url, in
// one statement, and returns how long the copy took: benchmarks make large
// bursts of due events this way, the copy's rate standing as the raw
// insert rate of the same run.
func CloneEvent(t testing.TB, url string, id int64, n int) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite&_txlock=immediate")
		if err != nil {
			t.Fatalf("testdb: clone event: %v", err)
		}
		defer db.Close()
		cols, err := sqliteColumns(ctx, db)
		if err != nil {
			t.Fatalf("testdb: clone event: %v", err)
		}
		t0 := time.Now()
		_, err = db.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
			INSERT INTO events (`+cols+`) SELECT `+cols+` FROM events, s WHERE id = ?`, n, id)
		if err != nil {
			t.Fatalf("testdb: clone event %d: %v", id, err)
		}
		return time.Since(t0)
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: clone event: %v", err)
	}
	defer conn.Close(context.Background())
	var cols string
	err = conn.QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events' AND column_name <> 'id'`).Scan(&cols)
	if err != nil {
		t.Fatalf("testdb: clone event: %v", err)
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `INSERT INTO events (`+cols+`) SELECT `+cols+` FROM events, generate_series(1, $2) WHERE id = $1`, id, n); err != nil {
		t.Fatalf("testdb: clone event %d: %v", id, err)
	}
	d := time.Since(t0)
	// Events made over days would have statistics by now (autovacuum):
	// so do these, made in a moment.
	if _, err := conn.Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatalf("testdb: clone event: analyze: %v", err)
	}
	return d
}

func sqliteColumns(ctx context.Context, db *sql.DB) (string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('events') WHERE name <> 'id' ORDER BY cid`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		cols = append(cols, `"`+c+`"`)
	}
	return strings.Join(cols, ", "), rows.Err()
}

// MakeAllDueAt makes every pending event of the database at url due at
// at (a moment just ahead, so that a serving process knows of it before
// it comes), and returns at as stored.
func MakeAllDueAt(t testing.TB, url string, at time.Time) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	at = at.UTC().Truncate(time.Microsecond)
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite&_txlock=immediate")
		if err != nil {
			t.Fatalf("testdb: make due: %v", err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, `UPDATE events SET due_at = ? WHERE status = 'pending'`, at); err != nil {
			t.Fatalf("testdb: make due: %v", err)
		}
		return at
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: make due: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE events SET due_at = $1 WHERE status = 'pending'`, at); err != nil {
		t.Fatalf("testdb: make due: %v", fmt.Errorf("%w", err))
	}
	return at
}

// MakeDueAt makes the scheduled events ids, which have no check_url (no
// job of their own), due at at: benchmarks make a burst due a moment
// ahead, as events scheduled long before are.
func MakeDueAt(t testing.TB, url string, at time.Time, ids ...int64) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at = at.UTC().Truncate(time.Microsecond)
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite&_txlock=immediate")
		if err != nil {
			t.Fatalf("testdb: make due: %v", err)
		}
		defer db.Close()
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, `UPDATE events SET due_at = ? WHERE id = ? AND status = 'pending'`, at, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("testdb: make due: %v", err)
		}
		return at
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: make due: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE events SET due_at = $1 WHERE id = ANY($2) AND status = 'pending'`, at, ids); err != nil {
		t.Fatalf("testdb: make due: %v", err)
	}
	return at
}

// Lateness returns, for every published event of the database at url
// that was due at at, how long after it it was published.
func Lateness(t testing.TB, url string, at time.Time) []time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at = at.UTC().Truncate(time.Microsecond)
	var (
		rows rowScanner
		err  error
	)
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, oerr := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite")
		if oerr != nil {
			t.Fatalf("testdb: lateness: %v", oerr)
		}
		defer db.Close()
		var r *sql.Rows
		if r, err = db.QueryContext(ctx, `SELECT due_at, published_at FROM events WHERE status = 'published' AND due_at = ?`, at); err == nil {
			defer r.Close()
			rows = r
		}
	} else {
		conn, cerr := connect(ctx, url)
		if cerr != nil {
			t.Fatalf("testdb: lateness: %v", cerr)
		}
		defer conn.Close(context.Background())
		var r pgx.Rows
		if r, err = conn.Query(ctx, `SELECT due_at, published_at FROM events WHERE status = 'published' AND due_at = $1`, at); err == nil {
			defer r.Close()
			rows = r
		}
	}
	if err != nil {
		t.Fatalf("testdb: lateness: %v", err)
	}
	var out []time.Duration
	for rows.Next() {
		var due, pub time.Time
		if err := rows.Scan(&due, &pub); err != nil {
			t.Fatalf("testdb: lateness: %v", err)
		}
		out = append(out, pub.Sub(due))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("testdb: lateness: %v", err)
	}
	return out
}

// rowScanner is what database/sql's and pgx's rows have in common.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}
