package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// harness is a Service and its Server on a real listener on 127.0.0.1.
type harness struct {
	t   *testing.T
	svc *cloche.Service
	srv *Server
	reg *prometheus.Registry
	url string // http://127.0.0.1:port
	key string // an API key
}

// forEachBackend runs fn on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.URL(t))
		})
	}
}

func testConfig(dbURL string) cloche.Config {
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.TimeZone = "Europe/Paris"
	cfg.Scheduler.PollInterval = cloche.Duration(100 * time.Millisecond)
	return cfg
}

func testLogger() *slog.Logger {
	if os.Getenv("CLOCHE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newHarness opens a service on cfg, serves it, and creates an API key.
func newHarness(t *testing.T, cfg cloche.Config, opts Options) *harness {
	t.Helper()
	return newHarnessOf(t, cfg, func(*cloche.Service) Options { return opts })
}

// newHarnessOf is newHarness with options that depend on the service.
func newHarnessOf(t *testing.T, cfg cloche.Config, options func(*cloche.Service) Options) *harness {
	t.Helper()
	ctx := context.Background()
	svc, err := cloche.Open(ctx, cfg, cloche.WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	opts := options(svc)
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	srv, err := New(svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	_, key, err := svc.CreateAPIKey(ctx, "test-host")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, svc: svc, srv: srv, reg: opts.Registry, url: "http://" + ln.Addr().String(), key: key}
}

// directoryJSON is a small cooperative (as in the root package's tests).
const directoryJSON = `{
 "companies": [
  {"id": 10, "name": "Atelier Nord", "email": "nord@example.org"},
  {"id": "20", "name": "Sud"}
 ],
 "users": [
  {"id": 1, "email": "alice@example.org", "name": "Alice", "groups": ["manager", "admin"], "companies": ["10"]},
  {"id": "2", "email": "bob@example.org", "name": "Bob", "groups": ["manager"], "companies": [10, 20], "follower_id": 1},
  {"id": "3", "email": "carol@example.org", "name": "Carol", "groups": ["member"], "companies": ["20"], "follower_id": "2"},
  {"id": "4", "email": "dan@example.org", "name": "Dan", "groups": ["admin"], "active": false}
 ]
}`

func (h *harness) loadDirectory() {
	h.t.Helper()
	if _, err := h.svc.ImportDirectory(context.Background(), strings.NewReader(directoryJSON)); err != nil {
		h.t.Fatal(err)
	}
}

// userToken mints a token for user id.
func (h *harness) userToken(id string) string {
	h.t.Helper()
	tok, _, err := h.svc.UserToken(context.Background(), id, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req is one request to send.
type req struct {
	method, path string
	token        string // bearer credential; "" sends none
	body         any    // JSON-encoded unless string or []byte
	header       map[string]string
}

func (h *harness) do(r req) *response {
	h.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(r.method, h.url+r.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// host sends a request with the harness's API key.
func (h *harness) host(method, path string, body any) *response {
	h.t.Helper()
	return h.do(req{method: method, path: path, token: h.key, body: body})
}

// want fails unless the status is status, and decodes the body into v
// (when not nil).
func (r *response) want(t *testing.T, status int, v any) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
	return r
}

// apiErr is an error answer.
type apiErr struct {
	Error struct {
		Code      string `json:"code"`
		Field     string `json:"field"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
		Details   []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// wantError fails unless the answer is an error of status, code and field
// in the one JSON shape.
func (r *response) wantError(t *testing.T, status int, code, field string) apiErr {
	t.Helper()
	var e apiErr
	r.want(t, status, &e)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" || e.Error.RequestID == "" {
		t.Fatalf("error %s, want code %q field %q, with a message and a request id", r.body, code, field)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	return e
}

func itoa(n int64) string { return fmt.Sprint(n) }
