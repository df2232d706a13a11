package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

const testPassword = "correct horse battery staple"

// forEachBackend runs fn on a fresh SQLite database and a fresh PostgreSQL
// schema.
func forEachBackend(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.URL(t))
		})
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("CLOCHE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// openService opens a service on url, in Paris time, closed at the end.
func openService(t testing.TB, url string) *cloche.Service {
	t.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	cfg.TimeZone = "Europe/Paris"
	svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(testLogger()))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// harness is a console served on a real loopback listener, and a client
// with its own cookie jar that does not follow redirects.
type harness struct {
	t       testing.TB
	svc     *cloche.Service
	console *Console
	srv     *httptest.Server
	client  *http.Client
}

func newHarness(t testing.TB, dbURL string, mod func(*ConsoleConfig)) *harness {
	t.Helper()
	svc := openService(t, dbURL)
	return newHarnessOn(t, svc, mod)
}

func newHarnessOn(t testing.TB, svc *cloche.Service, mod func(*ConsoleConfig)) *harness {
	t.Helper()
	cfg := ConsoleConfig{AdminPassword: testPassword}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewConsole(svc, cfg, testLogger())
	if err != nil {
		t.Fatalf("NewConsole: %v", err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := &harness{t: t, svc: svc, console: c, srv: srv}
	h.client = h.newClient()
	return h
}

func (h *harness) newClient() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (h *harness) do(req *http.Request) page {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (h *harness) get(path string) page {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

// post sends form to path, with headers (pairs of name, value).
func (h *harness) post(path string, form url.Values, headers ...string) page {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the form token of the page at path.
func (h *harness) token(path string) string {
	h.t.Helper()
	p := h.get(path)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		h.t.Fatalf("GET %s (%d): no form token in the page", path, p.status)
	}
	return m[1]
}

// login logs in with secret and returns the answer to the POST.
func (h *harness) login(secret string) page {
	h.t.Helper()
	return h.post("/console/login", url.Values{"csrf": {h.token("/console/login")}, "password": {secret}})
}

// mustLogin logs in with the admin password.
func (h *harness) mustLogin() {
	h.t.Helper()
	if p := h.login(testPassword); p.status != http.StatusSeeOther {
		h.t.Fatalf("login: status %d, want 303: %s", p.status, p.body)
	}
}

// send posts the send form with the session's token.
func (h *harness) send(form url.Values) page {
	h.t.Helper()
	form.Set("csrf", h.token("/console/send"))
	return h.post("/console/send", form)
}

func wantStatus(t testing.TB, what string, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, p.body)
	}
}

func wantContains(t testing.TB, what string, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: page does not contain %q\n%s", what, s, p.body)
		}
	}
}
