package main

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// Two `cloche serve` on one PostgreSQL database share a burst of events
// without check_url falling due at one instant: every event is published,
// exactly once (three notifications, one per member of the group), and
// the two processes' batches never take the same event.
func TestTwoServeProcessesShareDueBurst(t *testing.T) {
	url := testdb.PostgresURL(t)
	bin := buildBinary(t)
	r := newCrashRig(t, bin, url)
	var published [2]atomic.Int64
	procs := make([]*server, 2)
	for i := range procs {
		procs[i] = startServeWatch(t, bin, url, "127.0.0.1:0", nil, func(line string) {
			if strings.Contains(line, "msg=published") {
				published[i].Add(1)
			}
		})
		t.Cleanup(func() { procs[i].stop(t) })
	}
	ids := r.scheduleFar(t, procs[0].addr, 600, "")
	scheduled := map[int64]bool{}
	for _, id := range ids {
		scheduled[id] = true
	}
	// A moment ahead, so that both processes know the due time before it
	// comes, as they know events scheduled long before; a slow machine
	// only makes them later, not wrong.
	testdb.MakeDueAt(t, url, time.Now().Add(2*time.Second), ids...)
	evs := r.awaitPublished(t, procs[1].addr, ids)
	c := r.check(t, evs, ids, scheduled, time.Now())
	if c.found != len(ids) || c.duplicates > 0 || c.wrong > 0 {
		t.Errorf("found %d of %d, %d published twice, %d not published as they should", c.found, len(ids), c.duplicates, c.wrong)
	}
	a, b := published[0].Load(), published[1].Load()
	if a+b != int64(len(ids)) {
		t.Errorf("the processes logged %d + %d publications, want %d in all", a, b, len(ids))
	}
	t.Logf("2 processes, %d events due at one instant: published %d and %d", len(ids), a, b)
}
