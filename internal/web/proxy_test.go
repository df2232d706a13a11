package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// The console's cookies are Secure when console.secure_cookies says so, or
// when a trusted proxy says the browser came over HTTPS; never on the word
// of anyone else.
func TestSecureCookies(t *testing.T) {
	svc := openService(t, testdb.SQLiteURL(t))
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name   string
		secure bool // console.secure_cookies
		peer   string
		proto  []string // X-Forwarded-Proto headers
		want   bool
	}{
		{"plain HTTP", false, "192.0.2.1:5000", nil, false},
		{"setting", true, "192.0.2.1:5000", nil, true},
		{"https from a trusted proxy", false, "10.1.2.3:5000", []string{"https"}, true},
		{"https from a trusted IPv6 proxy", false, "[::1]:5000", []string{"https"}, true},
		{"https from anyone else", false, "192.0.2.1:5000", []string{"https"}, false},
		{"http from a trusted proxy", false, "10.1.2.3:5000", []string{"http"}, false},
		{"the nearest proxy's value counts", false, "10.1.2.3:5000", []string{"https, http"}, false},
		{"the nearest proxy's header counts", false, "10.1.2.3:5000", []string{"http", "HTTPS"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConsole(svc, ConsoleConfig{AdminPassword: testPassword, SecureCookies: tc.secure, TrustedProxies: proxies}, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/console/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			w := httptest.NewRecorder()
			c.ServeHTTP(w, r)
			cks := w.Result().Cookies()
			if len(cks) == 0 {
				t.Fatal("the login page set no cookie")
			}
			for _, ck := range cks {
				if ck.Secure != tc.want {
					t.Errorf("cookie %s Secure = %v, want %v", ck.Name, ck.Secure, tc.want)
				}
			}
		})
	}
}

// Behind a trusted proxy, the login throttle counts by the address the
// proxy saw (X-Forwarded-For), so that one client's failures do not close
// the login to everyone behind the proxy; from anyone else the header is
// ignored, so that changing it does not escape the throttle.
func TestLoginThrottleBehindProxy(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	})
	c := h.console
	login := func(peer, xff, secret string) int {
		st := loginState{Nonce: randomToken(18), Expires: c.now().Add(time.Hour).Unix()}
		v, err := seal(c.keys.login, st)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"csrf": {c.keys.loginToken(st.Nonce)}, "password": {secret}}
		r := httptest.NewRequest(http.MethodPost, "/console/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: loginCookie, Value: v})
		r.RemoteAddr = peer + ":40000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 10 {
		// The client forges a first hop; the proxy appends what it saw.
		if code := login("10.0.0.1", "1.2.3."+itoa(int64(i))+", 203.0.113.9", "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	wantCode := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d, want %d", what, got, want)
		}
	}
	wantCode("the failing client, through the proxy", login("10.0.0.1", "203.0.113.9", testPassword), http.StatusTooManyRequests)
	wantCode("another client, through the proxy", login("10.0.0.1", "203.0.113.10", testPassword), http.StatusSeeOther)

	for i := range 10 {
		login("192.0.2.7", "198.51.100."+itoa(int64(i)), "wrong")
	}
	wantCode("an untrusted peer changing X-Forwarded-For", login("192.0.2.7", "198.51.100.99", testPassword), http.StatusTooManyRequests)
}
