package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// crashBound is how late, after a process dies, an event it was publishing
// may be published (README, "What a crash costs").
const crashBound = 30 * time.Second

// crashRig is a database with three users in group manager and an API key.
type crashRig struct {
	bin, url, key string
}

func newCrashRig(t *testing.T, bin, url string) *crashRig {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dir.json")
	err := os.WriteFile(dir, []byte(`{"users": [
		{"id": "1", "groups": ["manager"]}, {"id": "2", "groups": ["manager"]}, {"id": "3", "groups": ["manager"]}]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	run(t, bin, url, "migrate")
	run(t, bin, url, "directory", "import", dir)
	key := strings.TrimSpace(string(run(t, bin, url, "apikey", "create", "crash")))
	return &crashRig{bin: bin, url: url, key: key}
}

var crashClient = &http.Client{Timeout: 30 * time.Second}

// notify posts one notification to the manager group, due at due when not
// zero, with checkURL when not empty, and returns its event id once the
// server acknowledged it.
func (r *crashRig) notify(addr string, due time.Time, checkURL string) (int64, error) {
	body := `{"key": "message:internal", "title": "Tick", "group_names": ["manager"]`
	if !due.IsZero() {
		body += `, "due_datetime": "` + due.UTC().Format(time.RFC3339Nano) + `"`
	}
	if checkURL != "" {
		body += `, "check_url": "` + checkURL + `"`
	}
	req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/events", strings.NewReader(body+"}"))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := crashClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("notify: %d %s", resp.StatusCode, out)
	}
	var res struct {
		EventID int64 `json:"event_id"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.EventID == 0 {
		return 0, fmt.Errorf("notify answered %s (%v)", out, err)
	}
	return res.EventID, nil
}

// scheduleFar creates n events due in an hour, eight at a time, every
// other one with checkURL, and returns their ids: MakeDue makes them due
// when the test is ready.
func (r *crashRig) scheduleFar(t *testing.T, addr string, n int, checkURL string) []int64 {
	t.Helper()
	due := time.Now().Add(time.Hour)
	var (
		mu   sync.Mutex
		ids  []int64
		errs []error
		wg   sync.WaitGroup
		next = make(chan int, n)
	)
	for i := range n {
		next <- i
	}
	close(next)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				url := ""
				if i%2 == 0 {
					url = checkURL
				}
				id, err := r.notify(addr, due, url)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, id)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d notifies failed, first: %v", len(errs), errs[0])
	}
	return ids
}

// crashEvent is what the API shows of an event.
type crashEvent struct {
	ID          int64      `json:"id"`
	Status      string     `json:"status"`
	DueAt       *time.Time `json:"due_datetime"`
	PublishedAt *time.Time `json:"published_at"`
}

// events lists every event through the API of the server at addr.
func (r *crashRig) events(t *testing.T, addr string) map[int64]crashEvent {
	t.Helper()
	out := map[int64]crashEvent{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events?limit=1000&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+r.key)
		resp, err := crashClient.Do(req)
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		var page struct {
			Items []crashEvent `json:"items"`
			Next  string       `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("list events: %d %v", resp.StatusCode, err)
		}
		for _, e := range page.Items {
			out[e.ID] = e
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// rescued reads cloche_events_rescued_total from the server's /metrics.
func rescued(t *testing.T, addr string) int {
	t.Helper()
	resp, err := crashClient.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "cloche_events_rescued_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metrics: %q: %v", sc.Text(), err)
			}
			return int(n)
		}
	}
	t.Fatal("metrics: no cloche_events_rescued_total")
	return 0
}

// awaitPublished waits, at most two minutes, until none of ids is pending,
// and returns the events.
func (r *crashRig) awaitPublished(t *testing.T, addr string, ids []int64) map[int64]crashEvent {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		evs := r.events(t, addr)
		var pending []int64
		for _, id := range ids {
			if evs[id].Status == "pending" {
				pending = append(pending, id)
			}
		}
		if len(pending) == 0 {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d scheduled events still pending two minutes on: %v", len(pending), len(ids), pending[:min(len(pending), 20)])
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// holdingHost is a host's check_url that holds every request until
// release, then says to send: the events being checked when a process is
// killed are, for sure, in the middle of their publication.
type holdingHost struct {
	*httptest.Server
	held    atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newHoldingHost(t *testing.T) *holdingHost {
	h := &holdingHost{release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.held.Add(1)
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(`{"send": true}`))
	}))
	t.Cleanup(func() { h.Release(); h.Close() })
	return h
}

// Release answers the held requests and every later one at once.
func (h *holdingHost) Release() { h.once.Do(func() { close(h.release) }) }

// awaitHeld waits, at most two minutes, until n requests arrived.
func (h *holdingHost) awaitHeld(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for h.held.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("check_url received %d requests two minutes after the burst fell due, want %d", h.held.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// crashCheck is what a crash test found.
type crashCheck struct {
	acknowledged, found, duplicates, wrong int
	latest                                 time.Duration // latest publish of a scheduled event after the kill
	late                                   []int64       // published later than crashBound after the kill or their due time
}

// check verifies that every acknowledged event is there, published, with
// one notification per user (3), and how late the scheduled ones were.
func (r *crashRig) check(t *testing.T, evs map[int64]crashEvent, acked []int64, scheduled map[int64]bool, killed time.Time) crashCheck {
	t.Helper()
	counts := testdb.NotificationCounts(t, r.url)
	c := crashCheck{acknowledged: len(acked)}
	for _, id := range acked {
		ev, ok := evs[id]
		if !ok {
			t.Errorf("acknowledged event %d is missing", id)
			continue
		}
		c.found++
		switch n := counts[id]; {
		case ev.Status != "published":
			c.wrong++
			t.Errorf("event %d is %s, want published", id, ev.Status)
		case n > 3:
			c.duplicates++
			t.Errorf("event %d has %d notifications: published twice", id, n)
		case n < 3:
			c.wrong++
			t.Errorf("event %d has %d notifications, want 3", id, n)
		}
		if !scheduled[id] || ev.PublishedAt == nil || ev.DueAt == nil {
			continue
		}
		c.latest = max(c.latest, ev.PublishedAt.Sub(killed))
		from := killed
		if ev.DueAt.After(from) {
			from = *ev.DueAt
		}
		if ev.PublishedAt.Sub(from) > crashBound {
			c.late = append(c.late, id)
		}
	}
	if len(c.late) > 0 {
		t.Errorf("%d scheduled events published more than %s after the kill (or their due time): %v", len(c.late), crashBound, c.late[:min(len(c.late), 20)])
	}
	return c
}

// A `cloche serve` SIGKILLed while it publishes a burst of due events and
// takes notifies loses nothing once restarted: every acknowledged event is
// published, once, and the scheduled ones within crashBound of the kill.
func TestSIGKILLUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			r := newCrashRig(t, bin, b.URL(t))
			host := newHoldingHost(t)
			p := startServe(t, bin, r.url, "127.0.0.1:0", nil)
			t.Cleanup(func() {
				if !p.stopped {
					p.cmd.Process.Kill()
					p.cmd.Wait()
				}
			})
			burst := r.scheduleFar(t, p.addr, 600, host.URL+"/check")
			scheduled := map[int64]bool{}
			for _, id := range burst {
				scheduled[id] = true
			}
			acked := append([]int64(nil), burst...)

			// Load: immediate notifies and others due a few seconds
			// ahead, until the kill.
			var (
				mu   sync.Mutex
				wg   sync.WaitGroup
				stop = make(chan struct{})
			)
			for w := range 4 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var due time.Time
						if (w+i)%2 == 0 {
							due = time.Now().Add(3 * time.Second)
						}
						id, err := r.notify(p.addr, due, "")
						if err != nil {
							continue // not acknowledged: the kill, most likely
						}
						mu.Lock()
						acked = append(acked, id)
						if !due.IsZero() {
							scheduled[id] = true
						}
						mu.Unlock()
					}
				})
			}
			// The burst falls due once the load runs.
			deadline := time.Now().Add(2 * time.Minute)
			for {
				mu.Lock()
				n := len(acked) - len(burst)
				mu.Unlock()
				if n >= 40 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d notifies acknowledged in two minutes", n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			testdb.MakeDue(t, r.url, burst...)
			// Kill while ten events at least wait for their check_url.
			host.awaitHeld(t, 10)
			p.cmd.Process.Kill()
			killed := time.Now()
			p.cmd.Wait()
			p.stopped = true
			host.Release()
			close(stop)
			wg.Wait()

			p2 := startServe(t, bin, r.url, "127.0.0.1:0", nil)
			t.Cleanup(func() { p2.stop(t) })
			var sched []int64
			for id := range scheduled {
				sched = append(sched, id)
			}
			pending := 0
			for _, ev := range r.events(t, p2.addr) {
				if ev.Status == "pending" && ev.DueAt != nil && ev.DueAt.Before(killed) {
					pending++
				}
			}
			t.Logf("%s: %d events due before the kill were pending at the restart", b.Name, pending)
			evs := r.awaitPublished(t, p2.addr, sched)
			c := r.check(t, evs, acked, scheduled, killed)
			t.Logf("%s: acknowledged %d (%d scheduled), found %d, duplicates %d, not published %d, latest publish %s after the kill, rescued %d",
				b.Name, c.acknowledged, len(scheduled), c.found, c.duplicates, c.wrong, c.latest.Round(time.Millisecond), rescued(t, p2.addr))
		})
	}
}

// Three `cloche serve` on one PostgreSQL database, one SIGKILLed while they
// publish a burst: every event, due before or after the kill, is published
// exactly once, within crashBound of the kill.
func TestNodeDeathPostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	bin := buildBinary(t)
	r := newCrashRig(t, bin, url)
	host := newHoldingHost(t)
	// Ten jobs at once per process: once 25 checks are held, the victim
	// holds some of them.
	env := []string{"CLOCHE_SCHEDULER__WORKERS=10"}
	victim := startServe(t, bin, url, "127.0.0.1:0", env)
	t.Cleanup(func() {
		if !victim.stopped {
			victim.cmd.Process.Kill()
			victim.cmd.Wait()
		}
	})
	b := startServe(t, bin, url, "127.0.0.1:0", env)
	t.Cleanup(func() { b.stop(t) })
	c := startServe(t, bin, url, "127.0.0.1:0", env)
	t.Cleanup(func() { c.stop(t) })

	ids := r.scheduleFar(t, b.addr, 1000, host.URL+"/check")
	before, after := ids[:600], ids[600:]
	scheduled := map[int64]bool{}
	for _, id := range ids {
		scheduled[id] = true
	}
	testdb.MakeDue(t, url, before...)
	host.awaitHeld(t, 25)
	victim.cmd.Process.Kill()
	killed := time.Now()
	victim.cmd.Wait()
	victim.stopped = true
	host.Release()
	testdb.MakeDue(t, url, after...)

	evs := r.awaitPublished(t, b.addr, ids)
	res := r.check(t, evs, ids, scheduled, killed)
	t.Logf("postgres, 3 nodes, one killed: acknowledged %d, found %d, duplicates %d, not published %d, latest publish %s after the kill, rescued %d",
		res.acknowledged, res.found, res.duplicates, res.wrong, res.latest.Round(time.Millisecond), rescued(t, b.addr)+rescued(t, c.addr))
}
