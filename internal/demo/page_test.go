package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

func TestPage(t *testing.T) {
	ctx := context.Background()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = testdb.SQLiteURL(t)
	svc, err := cloche.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	page, err := NewPage(svc, "/console", nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	page.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tokenUser := func(tok string) string {
		t.Helper()
		c, err := svc.VerifyUserToken(ctx, tok)
		if err != nil {
			t.Fatalf("token %q: %v", tok, err)
		}
		return c.UserID
	}

	if got := page.URL("http://127.0.0.1:8080/"); got != "http://127.0.0.1:8080/demo?user=1" {
		t.Errorf("URL = %s", got)
	}
	resp, _ := get("/demo")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/demo?user=1" {
		t.Errorf("/demo: %d to %q, want the first person's page", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp, body := get("/demo?user=12")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/demo?user=12: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]string{
		"Content-Type":  "text/html; charset=utf-8",
		"Cache-Control": "no-store",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("policy %q: want scripts from the server only, nothing inline", csp)
	}
	script := regexp.MustCompile(`<script src="/widget/cloche.js" data-token="([^"]+)" data-token-url="/demo/token\?user=12" data-lang="en" defer></script>`).FindStringSubmatch(body)
	if script == nil {
		t.Fatalf("no widget script tag for user 12 in:\n%s", body)
	}
	if u := tokenUser(script[1]); u != "12" {
		t.Errorf("the page's token is user %s's", u)
	}
	if strings.Count(body, "<script") != 1 {
		t.Errorf("the page has a script besides the widget's:\n%s", body)
	}
	for _, el := range []string{"<cloche-bell toasts></cloche-bell>", "<cloche-banner></cloche-banner>", "<cloche-alerts></cloche-alerts>",
		`<option value="12" selected>Gaëlle Roux (12)</option>`, `href="/console/send"`, "member, Boulangerie du Port"} {
		if !strings.Contains(body, el) {
			t.Errorf("the page lacks %s", el)
		}
	}
	options := regexp.MustCompile(`<option value="(\d+)"`).FindAllStringSubmatch(body, -1)
	var ids []string
	for _, m := range options {
		ids = append(ids, m[1])
	}
	if got := strings.Join(ids, ","); got != "1,2,3,10,11,12,13,14,16,17" {
		t.Errorf("the switcher offers %s, want the active people", got)
	}

	for _, tc := range []struct{ path, want string }{
		{"/demo?user=4", "not an active person"}, // inactive
		{"/demo?user=99", "not an active person"},
		{"/demo/token?user=15", "not an active person"},
		{"/demo/token", "not an active person"},
	} {
		if resp, body := get(tc.path); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want 404", tc.path, resp.StatusCode, body)
		}
	}

	resp, body = get("/demo/token?user=3")
	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/demo/token?user=3: %d %s", resp.StatusCode, body)
	}
	if u := tokenUser(tok.Token); u != "3" || tok.ExpiresAt == "" {
		t.Errorf("token of user %s, expiring at %q", u, tok.ExpiresAt)
	}

	resp, body = get("/demo/static/demo.css")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(body, "--cloche-accent") {
		t.Errorf("style sheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
