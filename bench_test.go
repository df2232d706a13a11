package cloche_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// rawDB writes rows straight into a Cloche database, as the baselines do.
type rawDB struct {
	lite *sql.DB
	pg   *pgx.Conn
}

func openRaw(b *testing.B, backend, url string) *rawDB {
	b.Helper()
	ctx := context.Background()
	if backend == "sqlite" {
		st, err := sqlite.Open(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return &rawDB{lite: st.DB()}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	return &rawDB{pg: conn}
}

// seedGroup adds n active users with e-mail addresses to group.
func (r *rawDB) seedGroup(b *testing.B, n int, group string) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if r.lite != nil {
		for _, q := range []string{
			`INSERT INTO users (id, email, name, locale, active, updated_at)
			 WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
			 SELECT 'u' || i, 'u' || i || '@example.org', 'User ' || i, 'fr', 1, ? FROM s`,
			`INSERT INTO user_groups (user_id, group_name) SELECT id, ? FROM users`,
		} {
			arg := any(n)
			if q[12:23] == "user_groups" {
				arg = group
			}
			args := []any{arg}
			if arg == any(n) {
				args = append(args, now)
			}
			if _, err := r.lite.ExecContext(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, email, name, locale, active, updated_at)
		  SELECT 'u' || i, 'u' || i || '@example.org', 'User ' || i, 'fr', true, $2 FROM generate_series(1, $1) i`, []any{n, now}},
		{`INSERT INTO user_groups (user_id, group_name) SELECT id, $1 FROM users`, []any{group}},
		{`ANALYZE`, nil},
	} {
		if _, err := r.pg.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
}

// insertNotifications writes one notification per user id for eventID
// straight into the table: a prepared INSERT per row in one transaction on
// SQLite, COPY on PostgreSQL, the fastest plain way on each.
func (r *rawDB) insertNotifications(b *testing.B, eventID int64, users []string, at time.Time) {
	b.Helper()
	ctx := context.Background()
	at = at.UTC().Truncate(time.Microsecond)
	if r.lite != nil {
		tx, err := r.lite.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range users {
			if _, err := stmt.ExecContext(ctx, eventID, u, "message", at, at, nil); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		return
	}
	_, err := r.pg.CopyFrom(ctx, pgx.Identifier{"notifications"},
		[]string{"event_id", "user_id", "channel", "created_at", "visible_at", "expires_at"},
		pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
			return []any{eventID, users[i], "message", at, at, nil}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
}

// checkpoint flushes PostgreSQL's dirty pages with the timer stopped, so
// that a checkpoint started by one side's writes does not land in the
// other side's time. Both sides get the same treatment.
func (r *rawDB) checkpoint(b *testing.B) {
	if r.pg == nil {
		return
	}
	b.StopTimer()
	defer b.StartTimer()
	if _, err := r.pg.Exec(context.Background(), "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "u" + strconv.Itoa(i+1)
	}
	return ids
}

// BenchmarkNotifyGroup sends one notification to a group of 10,000 and of
// 100,000 users on the message channel, beside a baseline that inserts the
// same rows straight into the same table, in the same run.
//
//	go test -run '^$' -bench NotifyGroup -benchtime 5x .
func BenchmarkNotifyGroup(b *testing.B) {
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		for _, size := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", backend.Name, size/1000), func(b *testing.B) {
				url := backend.URL(b)
				svc := openBench(b, url)
				raw := openRaw(b, backend.Name, url)
				raw.seedGroup(b, size, "everyone")
				users := userIDs(size)
				// An event for the baseline rows to belong to.
				ev, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "baseline"},
					cloche.Recipients{UserIDs: []string{"u1"}})
				if err != nil {
					b.Fatal(err)
				}
				// Each iteration times one notify and one baseline insert of
				// the same rows, alternately, so that both meet a table of
				// the same size.
				var notifyTime, baselineTime time.Duration
				for b.Loop() {
					raw.checkpoint(b)
					t0 := time.Now()
					res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Hello"},
						cloche.Recipients{GroupNames: []string{"everyone"}})
					notifyTime += time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					if res.Reached[cloche.ChannelMessage] != size {
						b.Fatalf("reached %v", res.Reached)
					}
					raw.checkpoint(b)
					t0 = time.Now()
					raw.insertNotifications(b, ev.EventID, users, time.Now())
					baselineTime += time.Since(t0)
				}
				notifyRate := float64(size*b.N) / notifyTime.Seconds()
				baselineRate := float64(size*b.N) / baselineTime.Seconds()
				b.ReportMetric(notifyTime.Seconds()*1000/float64(b.N), "notify-ms")
				b.ReportMetric(notifyRate, "notify-rows/s")
				b.ReportMetric(baselineRate, "baseline-rows/s")
				b.ReportMetric(100*notifyRate/baselineRate, "%-of-baseline")
			})
		}
	}
}

// BenchmarkInboxAmongMillion reads one user's unread count and first page
// of 20 among 1,000,000 notifications (1,000 users, 1,000 each).
//
//	go test -run '^$' -bench InboxAmongMillion .
func BenchmarkInboxAmongMillion(b *testing.B) {
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			const users, perUser = 1000, 1000
			raw.seedGroup(b, users, "everyone")
			ids := userIDs(users)
			start := time.Now().Add(-time.Duration(perUser) * time.Minute)
			for i := range perUser {
				ev, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprint("n", i)},
					cloche.Recipients{UserIDs: []string{"u1"}})
				if err != nil {
					b.Fatal(err)
				}
				// Every user gets one notification of each event.
				raw.insertNotifications(b, ev.EventID, ids, start.Add(time.Duration(i)*time.Minute))
			}
			if raw.pg != nil {
				if _, err := raw.pg.Exec(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				counts, err := svc.UnreadCounts(ctx, "u500")
				if err != nil || counts[cloche.ChannelMessage] != perUser {
					b.Fatalf("counts %v %v", counts, err)
				}
				page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "u500", Channel: cloche.ChannelMessage, Limit: 20})
				if err != nil || len(page.Items) != 20 {
					b.Fatalf("page %d %v", len(page.Items), err)
				}
			}
		})
	}
}

func openBench(b *testing.B, url string) *cloche.Service {
	b.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	svc, err := cloche.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}
