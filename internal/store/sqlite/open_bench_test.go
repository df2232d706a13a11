package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkOpenFresh: the start of a new installation, a fresh file opened
// and migrated, the largest part of `cloche serve`'s start-up on SQLite.
// It reports the open, Cloche's migrations and River's apart.
func BenchmarkOpenFresh(b *testing.B) {
	ctx := context.Background()
	var open, ours, river time.Duration
	for i := range b.N {
		path := filepath.Join(b.TempDir(), "c"+strconv.Itoa(i)+".db")
		t0 := time.Now()
		st, err := Open(ctx, path, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := st.migrateOurs(ctx); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := st.migrateRiver(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		open, ours, river = open+t1.Sub(t0), ours+t2.Sub(t1), river+t3.Sub(t2)
		st.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(open.Microseconds())/1000/n, "open-ms")
	b.ReportMetric(float64(ours.Microseconds())/1000/n, "cloche-migrations-ms")
	b.ReportMetric(float64(river.Microseconds())/1000/n, "river-migrations-ms")
}
