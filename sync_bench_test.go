package cloche_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkSyncDirectory syncs a directory of 100,000 people (100
// companies, 50 groups, followers, account types) from its JSON snapshot,
// decoding and checking included, as PUT /api/v1/directory and cloche
// directory sync do. Each iteration syncs a snapshot with 1 % of the
// people changed (250 renamed, 250 moved to another group, 250 to another
// company, 250 gone; and back at the next iteration), and, as the
// baseline in the same run, the same snapshot again (nothing to change).
// The first load of the 100,000 is reported too.
//
//	go test -run '^$' -bench SyncDirectory -benchtime 3x .
func BenchmarkSyncDirectory(b *testing.B) {
	ctx := context.Background()
	const size = 100_000
	companies, users := syncPeople(size)
	changed := slices.Clone(users)
	for k := range 250 {
		changed[1000+k].Name += " (renamed)"
		changed[2000+k].Groups = []string{"g99"}
		changed[3000+k].Companies = []cloche.ID{"c000", "c001"}
	}
	changed = changed[:size-250]
	encode := func(us []cloche.UserInput) []byte {
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(cloche.DirectorySnapshot{Companies: &companies, Users: &us}); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	snaps := [][]byte{encode(users), encode(changed)}
	b.Logf("snapshot of %d people: %.1f MB of JSON", size, float64(len(snaps[0]))/1e6)
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			svc := openBench(b, backend.URL(b))
			sync := func(snap []byte) (time.Duration, *cloche.SyncStats) {
				t0 := time.Now()
				st, err := svc.SyncDirectoryFrom(ctx, bytes.NewReader(snap))
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(t0), st
			}
			d, st := sync(snaps[0])
			if st.Created != size {
				b.Fatalf("first load %+v", st)
			}
			load := d
			var changedTime, sameTime time.Duration
			cur := 0
			for b.Loop() {
				cur = 1 - cur
				d, st := sync(snaps[cur])
				changedTime += d
				if st.Updated+st.Deactivated+st.Created != 1000 {
					b.Fatalf("1 %% sync %+v, want 1,000 people changed", st)
				}
				d, st = sync(snaps[cur])
				sameTime += d
				if st.Unchanged != len(snapsUsers(cur, size)) || st.Updated+st.Created+st.Deactivated != 0 {
					b.Fatalf("same sync again %+v", st)
				}
			}
			b.ReportMetric(load.Seconds()*1000, "load-ms")
			b.ReportMetric(changedTime.Seconds()*1000/float64(b.N), "1pct-ms")
			b.ReportMetric(sameTime.Seconds()*1000/float64(b.N), "same-ms")
			b.ReportMetric(changedTime.Seconds()/sameTime.Seconds(), "x-same")
		})
	}
}

// snapsUsers is a stand-in for the size of snapshot cur: the full one, or
// the one 250 people short.
func snapsUsers(cur, size int) []struct{} {
	if cur == 0 {
		return make([]struct{}, size)
	}
	return make([]struct{}, size-250)
}
