package realtime_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/realtime"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkStreamResume reconnects one user's stream among 1,000,000
// notifications (1,000 users, 1,000 each, one a minute) with the id of an
// event ten notifications back, and reads until the counts that end the
// catch-up. The baseline beside it is a new stream (no last event id:
// the feed's head and the counts).
//
//	go test -run '^$' -bench StreamResume -benchtime 500x ./internal/realtime/
func BenchmarkStreamResume(b *testing.B) {
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			cfg := cloche.DefaultConfig()
			cfg.DatabaseURL = url
			svc, err := cloche.Open(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer svc.Close()
			const users, perUser = 1000, 1000
			res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "seed"},
				cloche.Recipients{UserIDs: []string{"nobody"}})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now().Add(-perUser * time.Minute).UTC().Truncate(time.Microsecond)
			seedNotifications(b, backend.Name, url, res.EventID, users, perUser, start)
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer svc.Stop(ctx)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /stream/{user}", func(w http.ResponseWriter, r *http.Request) {
				svc.Streamer().ServeStream(w, r, r.PathValue("user"))
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()

			// The cursor of the user's notification ten from the end.
			page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "u500", Limit: 11})
			if err != nil || len(page.Items) != 11 {
				b.Fatalf("inbox: %v %v", page, err)
			}
			seen := page.Items[10]
			cursor := realtime.Cursor{NotificationID: seen.ID, Time: seen.CreatedAt}.String()

			var resume, fresh time.Duration
			for b.Loop() {
				t0 := time.Now()
				if n := readUntilCounts(b, srv.URL+"/stream/u500", cursor); n < 10 {
					b.Fatalf("resumed with %d notifications, want the 10 missed", n)
				}
				resume += time.Since(t0)
				t0 = time.Now()
				readUntilCounts(b, srv.URL+"/stream/u500", "")
				fresh += time.Since(t0)
			}
			b.ReportMetric(float64(resume.Microseconds())/float64(b.N)/1000, "resume-ms")
			b.ReportMetric(float64(fresh.Microseconds())/float64(b.N)/1000, "new-stream-ms")
		})
	}
}

// readUntilCounts opens a stream, reads it up to its first counts event
// and returns how many notifications came before.
func readUntilCounts(b *testing.B, url, last string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		switch sc.Text() {
		case "event: notification":
			n++
		case "event: counts":
			return n
		}
	}
	b.Fatalf("stream ended: %v", sc.Err())
	return 0
}

// seedNotifications writes perUser notifications of eventID to each of
// users users (u1…), one a minute from start, straight into the table.
func seedNotifications(b *testing.B, backend, url string, eventID int64, users, perUser int, start time.Time) {
	ctx := context.Background()
	if backend == "sqlite" {
		st, err := sqlite.Open(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		_, err = st.DB().ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at)
			WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < ? - 1),
			u(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM u WHERE j < ?)
			SELECT ?, 'u' || j, 'message', t, t FROM (
				SELECT j, strftime('%Y-%m-%d %H:%M:%f', ?, '+' || i || ' minutes') || '+00:00' AS t, i FROM m, u)
			ORDER BY i, j`, perUser, users, eventID, start.Format("2006-01-02 15:04:05.000000"))
		if err != nil {
			b.Fatal(err)
		}
		return
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at)
		 SELECT $1, 'u' || j, 'message', $2::timestamptz + i * interval '1 minute', $2::timestamptz + i * interval '1 minute'
		 FROM generate_series(0, $3 - 1) i, generate_series(1, $4) j ORDER BY i, j`,
		`ANALYZE`,
	} {
		args := []any{eventID, start, perUser, users}
		if strings.HasPrefix(q, "ANALYZE") {
			args = nil
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			b.Fatal(fmt.Errorf("seed: %w", err))
		}
	}
}
