package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloche/cloche"
)

func TestHealthAndRouting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		var health map[string]string
		h.do(req{method: "GET", path: "/healthz"}).want(t, http.StatusOK, &health)
		if health["status"] != "ok" {
			t.Errorf("healthz %v", health)
		}
		var ready map[string]string
		h.do(req{method: "GET", path: "/readyz"}).want(t, http.StatusOK, &ready)
		if ready["status"] != "ready" || ready["backend"] == "" {
			t.Errorf("readyz %v", ready)
		}
		r := h.do(req{method: "DELETE", path: "/api/v1/events", token: h.key})
		r.wantError(t, http.StatusMethodNotAllowed, codeMethod, "")
		if r.header.Get("Allow") != "GET, POST" {
			t.Errorf("Allow %q", r.header.Get("Allow"))
		}
		h.do(req{method: "GET", path: "/api/v2/events"}).wantError(t, http.StatusNotFound, codeNotFound, "")
		h.do(req{method: "GET", path: "/api/v1/me/stream", token: h.key}).
			wantError(t, http.StatusNotFound, codeNotFound, "") // no streamer: no route

		// Request ids: the client's, or a new one.
		r = h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "host-req-1"}})
		if r.header.Get("X-Request-Id") != "host-req-1" {
			t.Errorf("X-Request-Id %q, want the client's", r.header.Get("X-Request-Id"))
		}
		a := h.do(req{method: "GET", path: "/healthz"}).header.Get("X-Request-Id")
		b := h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "bad id with spaces"}}).header.Get("X-Request-Id")
		if a == "" || b == "" || a == b || strings.Contains(b, " ") {
			t.Errorf("generated request ids %q and %q", a, b)
		}

		var doc map[string]any
		h.do(req{method: "GET", path: "/api/v1/openapi.json"}).want(t, http.StatusOK, &doc)
		if doc["openapi"] != "3.1.0" {
			t.Errorf("openapi.json: %v", doc["openapi"])
		}
	})
}

func TestReadyzUnavailable(t *testing.T) {
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{})
	h.svc.Close()
	r := h.do(req{method: "GET", path: "/readyz"})
	r.wantError(t, http.StatusServiceUnavailable, codeUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	h.do(req{method: "GET", path: "/healthz"}).want(t, http.StatusOK, nil)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestAccessLogAndPanics(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{Logger: logger})
	h.srv.mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })

	h.host("GET", "/api/v1/types", nil).want(t, http.StatusOK, nil)
	h.do(req{method: "GET", path: "/api/v1/types", header: map[string]string{"X-Request-Id": "r-401"}}).
		wantError(t, http.StatusUnauthorized, codeUnauthorized, "")
	e := h.do(req{method: "GET", path: "/test/panic"}).wantError(t, http.StatusInternalServerError, codeInternal, "")
	if strings.Contains(e.Error.Message, "boom") {
		t.Errorf("a panic's value shown to the client: %q", e.Error.Message)
	}
	// The server still serves.
	h.do(req{method: "GET", path: "/healthz"}).want(t, http.StatusOK, nil)

	var access []map[string]any
	var panicked bool
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "http":
			access = append(access, l)
		case "http: panic":
			panicked = l["panic"] == "boom" && strings.Contains(fmt.Sprint(l["stack"]), "goroutine")
		}
	}
	if !panicked {
		t.Error("the panic was not logged with its stack")
	}
	if len(access) != 4 {
		t.Fatalf("%d access log lines, want 4: %v", len(access), access)
	}
	first, second := access[0], access[1]
	if first["method"] != "GET" || first["route"] != "GET /api/v1/types" || first["status"] != float64(200) ||
		first["caller"] != "key:test-host" || first["request_id"] == "" || first["duration_ms"] == nil {
		t.Errorf("access log %v", first)
	}
	if second["status"] != float64(401) || second["error"] != codeUnauthorized || second["request_id"] != "r-401" {
		t.Errorf("access log of a 401 %v", second)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := &testStreamer{}
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{Registry: reg, Streamer: st})
	h.loadDirectory()
	h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1, 2}}).
		want(t, http.StatusCreated, nil)
	h.host("POST", "/api/v1/events", map[string]any{"key": "task:status:valid", "title": "x", "user_ids": []int{1}}).
		want(t, http.StatusCreated, nil)
	h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "later", "user_ids": []int{1},
		"due_datetime": time.Now().Add(-time.Minute).Format(time.RFC3339), "until": time.Now().Add(time.Hour).Format(time.RFC3339)}).
		want(t, http.StatusCreated, nil)
	st.open.Store(3)

	r := h.do(req{method: "GET", path: "/metrics"}).want(t, http.StatusOK, nil)
	text := string(r.body)
	for _, want := range []string{
		`cloche_http_request_duration_seconds_count{code="201",method="POST",route="POST /api/v1/events"} 3`,
		`cloche_notifications_total{channel="message"} 3`,
		`cloche_notifications_total{channel="email"} 1`,
		`cloche_notifications_total{channel="alert"} 0`,
		`cloche_deliveries{state="queued"} 1`,
		`cloche_deliveries{state="failed"} 0`,
		`cloche_scheduler_lag_seconds 0`,
		`cloche_open_streams 3`,
		`cloche_deliveries_rescued_total 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// testStreamer stands in for the realtime hub, to test routing and
// authentication of the stream route: it writes one event, then waits
// for the request to end.
type testStreamer struct {
	open  atomic.Int64
	users sync.Map // user id → last Last-Event-ID seen
}

func (s *testStreamer) ServeStream(w http.ResponseWriter, r *http.Request, userID string) {
	s.open.Add(1)
	defer s.open.Add(-1)
	s.users.Store(userID, r.Header.Get("Last-Event-ID"))
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, "id: 1\nevent: hello\ndata: {\"user_id\":%q}\n\n", userID)
	http.NewResponseController(w).Flush()
	<-r.Context().Done()
}

func (s *testStreamer) OpenStreams() int { return int(s.open.Load()) }

func TestStreamRoute(t *testing.T) {
	st := &testStreamer{}
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{Streamer: st})
	h.loadDirectory()
	tok := h.userToken("2")

	open := func(t *testing.T, path string, header map[string]string) (*http.Response, *bufio.Reader) {
		t.Helper()
		hr, _ := http.NewRequest("GET", h.url+path, nil)
		for k, v := range header {
			hr.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp, bufio.NewReader(resp.Body)
	}
	readEvent := func(t *testing.T, br *bufio.Reader) string {
		t.Helper()
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v (so far %q)", err, ev.String())
			}
			if line == "\n" {
				return ev.String()
			}
			ev.WriteString(line)
		}
	}

	t.Run("header token", func(t *testing.T) {
		resp, br := open(t, "/api/v1/me/stream", map[string]string{"Authorization": "Bearer " + tok, "Last-Event-ID": "41"})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d, %v", resp.StatusCode, resp.Header)
		}
		if ev := readEvent(t, br); !strings.Contains(ev, `"user_id":"2"`) {
			t.Errorf("event %q", ev)
		}
		if v, _ := st.users.Load("2"); v != "41" {
			t.Errorf("Last-Event-ID seen by the streamer: %v", v)
		}
	})
	t.Run("query token, as EventSource sends it", func(t *testing.T) {
		resp, br := open(t, "/api/v1/me/stream?access_token="+tok, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		readEvent(t, br)
	})
	for _, tc := range []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"no token", "/api/v1/me/stream", nil, http.StatusUnauthorized},
		{"bad query token", "/api/v1/me/stream?access_token=nope", nil, http.StatusUnauthorized},
		{"API key", "/api/v1/me/stream", map[string]string{"Authorization": "Bearer " + h.key}, http.StatusForbidden},
		{"API key in the query", "/api/v1/me/stream?access_token=" + h.key, nil, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := open(t, tc.path, tc.header)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}

	t.Run("shutdown ends streams", func(t *testing.T) {
		_, br := open(t, "/api/v1/me/stream?access_token="+tok, nil)
		readEvent(t, br)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- h.srv.Shutdown(ctx) }()
		if _, err := io.ReadAll(br); err != nil {
			t.Logf("stream ended with %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("shutdown with open streams: %v", err)
		}
		if n := st.OpenStreams(); n != 0 {
			t.Errorf("%d streams still open", n)
		}
	})
}

// Shutdown waits for a request in flight, which completes normally, and
// refuses new connections meanwhile.
func TestShutdownLetsRequestsFinish(t *testing.T) {
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{})
	entered, release := make(chan struct{}), make(chan struct{})
	h.srv.mux.HandleFunc("GET /test/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		writeJSON(w, http.StatusOK, map[string]string{"status": "done"})
	})
	answered := make(chan *response, 1)
	go func() { answered <- h.do(req{method: "GET", path: "/test/slow"}) }()
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- h.srv.Shutdown(context.Background()) }()
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(h.url, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts during shutdown")
		}
		runtime.Gosched()
	}
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	r := <-answered
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "done") {
		t.Errorf("the request in flight got %d %s", r.status, r.body)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// A client that sends its request too slowly is cut off after
// request_timeout, on the API's routes and on those mounted beside them.
func TestSlowRequestIsCut(t *testing.T) {
	cfg := testConfig("sqlite:" + t.TempDir() + "/c.db")
	cfg.HTTP.RequestTimeout = cloche.Duration(300 * time.Millisecond)
	h := newHarness(t, cfg, Options{Mount: []func(*http.ServeMux){func(mux *http.ServeMux) {
		mux.HandleFunc("POST /mounted", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	}}})
	for _, path := range []string{"/api/v1/events", "/mounted"} {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Headers, then one byte of a body announced as 1000.
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: cloche\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", path, h.key)
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("%s: the server still held a request whose body stalled, 10s on (request_timeout 300ms): %v", path, err)
		}
	}
}
