package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// forEachBackend runs fn on a fresh SQLite database and on a fresh
// PostgreSQL schema (skipped when PostgreSQL is absent).
func forEachBackend(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newHarness(t, b.URL(t)))
		})
	}
}

// harness runs the command line in-process, as cmd/cloche does, on one
// database named by the environment.
type harness struct {
	t   *testing.T
	dir string
	env []string
}

func newHarness(t *testing.T, databaseURL string) *harness {
	t.Helper()
	return &harness{t: t, dir: t.TempDir(), env: []string{
		"CLOCHE_DATABASE_URL=" + databaseURL,
		"CLOCHE_TIME_ZONE=Europe/Paris",
		"CLOCHE_SCHEDULER__POLL_INTERVAL=100ms",
		"CLOCHE_HTTP__ADDR=127.0.0.1:0", // serve tests run in parallel
	}}
}

// sqliteHarness is a harness on a new SQLite database.
func sqliteHarness(t *testing.T) *harness {
	return newHarness(t, testdb.SQLiteURL(t))
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line with args and returns what it did.
func (h *harness) run(args ...string) result {
	return h.runCtx(context.Background(), "", args...)
}

// runCtx runs the command line with a context and standard input.
func (h *harness) runCtx(ctx context.Context, stdin string, args ...string) result {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, args, strings.NewReader(stdin), &stdout, &stderr, h.env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// ok runs args, fails the test unless they succeed, and returns stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("cloche %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// json runs args with --json and decodes the output into v.
func (h *harness) json(v any, args ...string) {
	h.t.Helper()
	out := h.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("cloche %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs args and checks the exit status and that stderr names every
// one of want.
func (h *harness) fails(code int, args []string, want ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != code {
		h.t.Errorf("cloche %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			h.t.Errorf("cloche %s: stderr does not mention %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	if !strings.HasPrefix(r.stderr, "cloche: ") {
		h.t.Errorf("cloche %s: stderr should start with \"cloche: \":\n%s", strings.Join(args, " "), r.stderr)
	}
	return r
}

// file writes content to a file of the harness's folder and returns its path.
func (h *harness) file(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// importDirectory loads testDirectory.
func (h *harness) importDirectory() {
	h.t.Helper()
	out := h.ok("directory", "import", h.file("dir.json", testDirectory))
	if !strings.Contains(out, "imported 2 companies and 4 users") {
		h.t.Fatalf("directory import printed %q", out)
	}
}

// testDirectory: 1 alice (manager, admin), 2 bob (manager, follows 3),
// 3 carol (member, company 10), 4 dan (member, inactive); companies 10
// (with an address) and 20.
const testDirectory = `{
 "companies": [
  {"id": 10, "name": "Atelier Nord", "email": "nord@example.org"},
  {"id": "20", "name": "Sud"}
 ],
 "users": [
  {"id": 1, "email": "alice@example.org", "name": "Alice", "groups": ["manager", "admin"], "companies": [10]},
  {"id": "2", "email": "bob@example.org", "name": "Bob", "locale": "en", "groups": ["manager"]},
  {"id": "3", "email": "carol@example.org", "name": "Carol", "groups": ["member"], "companies": ["10"], "follower_id": 2},
  {"id": "4", "email": "dan@example.org", "name": "Dan", "groups": ["member"], "active": false}
 ]
}`

// waitFor polls cond every 25ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

// watchWriter is a goroutine-safe writer that closes seen when a write
// contains marker.
type watchWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
}

func newWatchWriter(marker string) *watchWriter {
	return &watchWriter{marker: marker, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.marker != "" && strings.Contains(w.buf.String(), w.marker) {
		close(w.seen)
		w.marker = ""
	}
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// databaseURL is the database the harness's environment names.
func (h *harness) databaseURL() string {
	for _, kv := range h.env {
		if v, ok := strings.CutPrefix(kv, "CLOCHE_DATABASE_URL="); ok {
			return v
		}
	}
	h.t.Fatal("harness: no CLOCHE_DATABASE_URL")
	return ""
}
