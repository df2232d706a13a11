package cloche_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// A directory written in bulk gets its statistics at once, not when
// autovacuum comes: on a freshly imported (or synced) PostgreSQL database,
// the directory tables have statistics counting what was written, and a
// notify to a 10-member group among 2,000 people reaches its ten on both
// backends.
func TestBulkDirectoryWriteGathersStatistics(t *testing.T) {
	const users = 2000
	var b strings.Builder
	b.WriteString(`{"users": [`)
	for u := 1; u <= users; u++ {
		if u > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": "%d", "email": "u%d@example.org", "groups": ["g%d"]}`, u, u, (u-1)%(users/10)+1)
	}
	b.WriteString(`]}`)
	file := b.String()
	writes := []struct {
		name  string
		write func(ctx context.Context, svc *cloche.Service) error
	}{
		{"import", func(ctx context.Context, svc *cloche.Service) error {
			_, err := svc.ImportDirectory(ctx, strings.NewReader(file))
			return err
		}},
		{"sync", func(ctx context.Context, svc *cloche.Service) error {
			_, err := svc.SyncDirectoryFrom(ctx, strings.NewReader(file))
			return err
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			for _, be := range testdb.Backends() {
				t.Run(be.Name, func(t *testing.T) {
					ctx := context.Background()
					url := be.URL(t)
					svc := open(t, testConfig(url))
					if err := w.write(ctx, svc); err != nil {
						t.Fatal(err)
					}
					res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Workshop moved"},
						cloche.Recipients{GroupNames: []string{"g7"}})
					if err != nil {
						t.Fatal(err)
					}
					if got := res.Reached[cloche.ChannelMessage]; got != 10 {
						t.Errorf("a 10-member group: reached %d", got)
					}
					if be.Name == "postgres" {
						checkDirectoryPlanned(t, url, users)
					}
				})
			}
		})
	}
}

// checkDirectoryPlanned checks that the directory tables of the schema of
// url have statistics counting n users and n memberships.
func checkDirectoryPlanned(t *testing.T, url string, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"users", "user_groups"} {
		var tuples float64
		if err := conn.QueryRow(ctx, `SELECT reltuples FROM pg_class
WHERE relnamespace = current_schema()::regnamespace AND relname = $1`, table).Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		if int(tuples) != n {
			t.Errorf("%s: statistics count %v rows, want %d", table, tuples, n)
		}
	}
	var columns int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stats
WHERE schemaname = current_schema() AND tablename = 'user_groups' AND attname = 'group_name'`).Scan(&columns); err != nil {
		t.Fatal(err)
	}
	if columns != 1 {
		t.Errorf("user_groups.group_name has no statistics")
	}
}
