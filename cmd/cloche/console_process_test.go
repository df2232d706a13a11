package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// consoleClient is a browser of the console: a cookie jar, no redirects
// followed.
type consoleClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newConsoleClient(t *testing.T, base string, transport http.RoundTripper) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{t: t, base: base, c: &http.Client{
		Jar: jar, Timeout: 30 * time.Second, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *consoleClient) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var formToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs in with secret; it returns the answer to the POST.
func (c *consoleClient) login(secret string) *http.Response {
	c.t.Helper()
	_, page := c.do("GET", "/console/login", nil)
	m := formToken.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no form token on the login page:\n%s", page)
	}
	resp, _ := c.do("POST", "/console/login", url.Values{"csrf": {m[1]}, "password": {secret}})
	return resp
}

// A console session opened with an API key ends when `cloche apikey
// revoke` (another process) revokes the key: the console's next request,
// right after the command returns, is sent to log in, while the API may
// still trust the key for up to a second.
func TestConsoleSessionEndsWithItsKey(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			run(t, bin, url, "migrate")
			key := strings.TrimSpace(string(run(t, bin, url, "apikey", "create", "operator")))
			addr := serve(t, bin, url)
			c := newConsoleClient(t, "http://"+addr, nil)
			if resp := c.login(key); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login with the API key: %d", resp.StatusCode)
			}
			if resp, page := c.do("GET", "/console/", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("dashboard: %d\n%s", resp.StatusCode, page)
			}

			run(t, bin, url, "apikey", "revoke", "operator")
			resp, _ := c.do("GET", "/console/events", nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login") {
				t.Fatalf("console after `cloche apikey revoke`: %d → %q, want a redirect to the login page",
					resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp := c.login(key); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("login with the revoked key: %d, want 401", resp.StatusCode)
			}
		})
	}
}
