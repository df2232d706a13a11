package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// buildBinary builds cloche once for the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cloche")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run runs one command of the binary and returns its standard output.
func run(t *testing.T, bin, url string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--database-url", url}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloche %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// serve starts `cloche serve` and returns once it logs that it serves,
// with the address its HTTP server listens on (a free port). At the end of
// the test it is sent SIGTERM and must exit 0.
func serve(t *testing.T, bin, url string) string {
	t.Helper()
	p := startServe(t, bin, url, "127.0.0.1:0", nil)
	t.Cleanup(func() { p.stop(t) })
	return p.addr
}

// server is a running `cloche serve`.
type server struct {
	cmd     *exec.Cmd
	addr    string      // where it listens
	logs    chan string // everything it logged, once it exits
	stopped bool
}

// startServe starts `cloche serve` on addr, with more environment
// variables (NAME=value) and arguments, and returns once it serves.
func startServe(t *testing.T, bin, url, addr string, env []string, args ...string) *server {
	t.Helper()
	return startServeWatch(t, bin, url, addr, env, nil, args...)
}

// startServeWatch is startServe with watch, when not nil, called with
// every line the process logs.
func startServeWatch(t *testing.T, bin, url, addr string, env []string, watch func(line string), args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--database-url", url}, args...)...)
	cmd.Env = append(os.Environ(), "CLOCHE_LOG__FORMAT=text", "CLOCHE_SCHEDULER__POLL_INTERVAL=100ms",
		"CLOCHE_HTTP__ADDR="+addr)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	s := &server{cmd: cmd, logs: make(chan string, 1)}
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if watch != nil {
				watch(sc.Text())
			}
			if strings.Contains(sc.Text(), "cloche serving") {
				ready <- logValue(sc.Text(), "http")
			}
		}
		s.logs <- all.String()
	}()
	select {
	case s.addr = <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("cloche serve did not start:\n%s", <-s.logs)
	}
	return s
}

// stop sends SIGTERM and waits for the process, which must exit 0.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("cloche serve after SIGTERM: %v\n%s", err, <-s.logs)
	}
}

// logValue reads key=value from a text log line.
func logValue(line, key string) string {
	for _, field := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(field, key+"="); ok {
			return v
		}
	}
	return ""
}

// Two `cloche serve` processes on one PostgreSQL database publish each
// scheduled event exactly once, and stop cleanly on SIGTERM.
func TestTwoServeProcessesPublishOnce(t *testing.T) {
	url := testdb.PostgresURL(t)
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "dir.json")
	err := os.WriteFile(dir, []byte(`{"users": [
		{"id": "1", "groups": ["manager"]}, {"id": "2", "groups": ["manager"]}, {"id": "3", "groups": ["manager", "admin"]}]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	run(t, bin, url, "migrate")
	run(t, bin, url, "directory", "import", dir)
	serve(t, bin, url)
	serve(t, bin, url)

	// Due in an hour, then made due once every notify is done: however
	// slow the machine, every event waits for the servers.
	due := time.Now().Add(time.Hour).Format(time.RFC3339Nano)
	const events = 6
	var ids []int64
	for range events {
		var res struct {
			EventID int64  `json:"event_id"`
			Status  string `json:"status"`
		}
		out := run(t, bin, url, "notify", "--json", "-k", "message:internal", "--title", "Tick", "-g", "manager", "-g", "admin", "--from", due)
		if err := json.Unmarshal(out, &res); err != nil || res.Status != "pending" {
			t.Fatalf("notify printed %s (%v)", out, err)
		}
		ids = append(ids, res.EventID)
	}
	testdb.MakeDue(t, url, ids...)
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range ids {
		for {
			var ev struct {
				Status string         `json:"status"`
				Counts map[string]int `json:"counts"`
			}
			out := run(t, bin, url, "events", "show", "--json", strconv.FormatInt(id, 10))
			if err := json.Unmarshal(out, &ev); err != nil {
				t.Fatalf("events show printed %s: %v", out, err)
			}
			if ev.Status == "published" {
				if ev.Counts["message"] != 3 {
					t.Fatalf("event %d reached %v, want 3 on message", id, ev.Counts)
				}
				break
			}
			if ev.Status != "pending" || time.Now().After(deadline) {
				t.Fatalf("event %d is %s", id, ev.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, user := range []string{"1", "2", "3"} {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		out := run(t, bin, url, "inbox", "--json", "--all", "--limit", "100", user)
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatalf("inbox printed %s: %v", out, err)
		}
		if len(page.Items) != events {
			t.Errorf("user %s has %d notifications, want %d: one per event", user, len(page.Items), events)
		}
	}
}
