package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver Cloche's SQLite store uses
)

// MakeDue makes the scheduled events ids due now, in the database at url:
// their due datetime and their publish jobs' scheduled time become the
// present. Tests schedule events far ahead, do their slow work, then call
// it, so that nothing depends on how fast the machine is.
func MakeDue(t testing.TB, url string, ids ...int64) {
	t.Helper()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite&_txlock=immediate")
		if err != nil {
			t.Fatalf("testdb: make due: %v", err)
		}
		defer db.Close()
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, `UPDATE events SET due_at = ? WHERE id = ? AND status = 'pending'`, now, id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE river_job SET scheduled_at = datetime('now', 'subsec'),
						state = CASE WHEN state = 'scheduled' THEN 'available' ELSE state END
					WHERE kind = 'cloche.publish_event' AND json_extract(args, '$.event_id') = ?`, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("testdb: make events %v due: %v", ids, err)
		}
		return
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: make due: %v", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `
WITH e AS (UPDATE events SET due_at = $1 WHERE id = ANY($2) AND status = 'pending' RETURNING id)
UPDATE river_job SET scheduled_at = $1,
    state = CASE WHEN state = 'scheduled' THEN 'available'::river_job_state ELSE state END
WHERE kind = 'cloche.publish_event' AND (args->>'event_id')::bigint = ANY($2)`, now, ids)
	if err != nil {
		t.Fatalf("testdb: make events %v due: %v", ids, err)
	}
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%w", err)
	}
	return tx.Commit()
}

// NotificationCounts returns, per event id, how many in-app notifications
// the database at url holds.
func NotificationCounts(t testing.TB, url string) map[int64]int {
	t.Helper()
	const query = `SELECT event_id, count(*) FROM notifications GROUP BY event_id`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[int64]int{}
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_pragma=query_only(1)")
		if err != nil {
			t.Fatalf("testdb: notification counts: %v", err)
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			t.Fatalf("testdb: notification counts: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatalf("testdb: notification counts: %v", err)
			}
			out[id] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("testdb: notification counts: %v", err)
		}
		return out
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: notification counts: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, query)
	if err != nil {
		t.Fatalf("testdb: notification counts: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatalf("testdb: notification counts: %v", err)
		}
		out[id] = int(n)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("testdb: notification counts: %v", err)
	}
	return out
}
