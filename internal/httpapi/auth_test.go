package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		secret, err := h.svc.TokenSecret(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		sign := func(claims jwt.MapClaims) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		user1 := h.userToken("1")
		// A token a Python host would mint: sub, exp, iat.
		hostMinted := sign(jwt.MapClaims{"sub": "2", "iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()})

		cases := []struct {
			name   string
			method string
			path   string
			header string // Authorization
			status int
			code   string
		}{
			{"no credential", "GET", "/api/v1/types", "", http.StatusUnauthorized, codeUnauthorized},
			{"basic scheme", "GET", "/api/v1/types", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, codeUnauthorized},
			{"empty bearer", "GET", "/api/v1/types", "Bearer ", http.StatusUnauthorized, codeUnauthorized},
			{"unknown key", "GET", "/api/v1/types", "Bearer ck_" + strings.Repeat("A", 43), http.StatusUnauthorized, codeUnauthorized},
			{"malformed key", "GET", "/api/v1/types", "Bearer ck_short", http.StatusUnauthorized, codeUnauthorized},
			{"user token on a host route", "GET", "/api/v1/types", "Bearer " + user1, http.StatusForbidden, codeForbidden},
			{"user token minting tokens", "POST", "/api/v1/users/1/token", "Bearer " + user1, http.StatusForbidden, codeForbidden},
			{"user token on another user's inbox route", "GET", "/api/v1/users/2/notifications", "Bearer " + user1, http.StatusForbidden, codeForbidden},
			{"API key on /me", "GET", "/api/v1/me/notifications", "Bearer " + h.key, http.StatusForbidden, codeForbidden},
			// A credential that is no good is 401 wherever it is sent, the
			// wrong kind of route included.
			{"unknown key on /me", "GET", "/api/v1/me/counts", "Bearer ck_" + strings.Repeat("A", 43), http.StatusUnauthorized, codeUnauthorized},
			{"malformed key on /me", "GET", "/api/v1/me/notifications", "Bearer ck_short", http.StatusUnauthorized, codeUnauthorized},
			{"garbage token on a host route", "GET", "/api/v1/types", "Bearer not.a.jwt", http.StatusUnauthorized, codeUnauthorized},
			{"expired token on a host route", "GET", "/api/v1/types", "Bearer " + sign(jwt.MapClaims{"sub": "1", "exp": time.Now().Add(-time.Hour).Unix()}),
				http.StatusUnauthorized, codeUnauthorized},
			{"no token on /me", "GET", "/api/v1/me/counts", "", http.StatusUnauthorized, codeUnauthorized},
			{"garbage token", "GET", "/api/v1/me/counts", "Bearer not.a.jwt", http.StatusUnauthorized, codeUnauthorized},
			{"expired token", "GET", "/api/v1/me/counts", "Bearer " + sign(jwt.MapClaims{"sub": "1", "exp": time.Now().Add(-time.Hour).Unix()}),
				http.StatusUnauthorized, codeUnauthorized},
			{"token of another secret", "GET", "/api/v1/me/counts", "Bearer " + func() string {
				s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "exp": time.Now().Add(time.Hour).Unix()}).
					SignedString([]byte(strings.Repeat("x", 32)))
				return s
			}(), http.StatusUnauthorized, codeUnauthorized},
			{"token living too long", "GET", "/api/v1/me/counts", "Bearer " + sign(jwt.MapClaims{"sub": "1", "exp": time.Now().Add(48 * time.Hour).Unix()}),
				http.StatusUnauthorized, codeUnauthorized},
			{"access_token outside the stream", "GET", "/api/v1/me/counts?access_token=" + user1, "", http.StatusUnauthorized, codeUnauthorized},
			{"API key", "GET", "/api/v1/types", "Bearer " + h.key, http.StatusOK, ""},
			{"user token", "GET", "/api/v1/me/counts", "Bearer " + user1, http.StatusOK, ""},
			{"host-minted token", "GET", "/api/v1/me/counts", "Bearer " + hostMinted, http.StatusOK, ""},
			{"lower-case scheme", "GET", "/api/v1/me/counts", "bearer " + user1, http.StatusOK, ""},
			{"health needs nothing", "GET", "/healthz", "", http.StatusOK, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do(req{method: tc.method, path: tc.path, header: map[string]string{"Authorization": tc.header}})
				if tc.code == "" {
					r.want(t, tc.status, nil)
					return
				}
				r.wantError(t, tc.status, tc.code, "")
				if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: Bearer: %v", r.header)
				}
			})
		}

		t.Run("revoked key", func(t *testing.T) {
			k, key, err := h.svc.CreateAPIKey(t.Context(), "to-revoke")
			if err != nil {
				t.Fatal(err)
			}
			h.do(req{method: "GET", path: "/api/v1/types", token: key}).want(t, http.StatusOK, nil)
			if _, err := h.svc.RevokeAPIKey(t.Context(), strconv.FormatInt(k.ID, 10)); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/api/v1/types", "/api/v1/me/counts"} {
				e := h.do(req{method: "GET", path: path, token: key}).wantError(t, http.StatusUnauthorized, codeUnauthorized, "")
				if !strings.Contains(e.Error.Message, "revoked") {
					t.Errorf("%s: message %q does not say the key was revoked", path, e.Error.Message)
				}
			}
		})
	})
}

func TestRateLimits(t *testing.T) {
	cfg := testConfig("sqlite:" + t.TempDir() + "/c.db")
	cfg.HTTP.RateLimit.APIKey, cfg.HTTP.RateLimit.APIKeyBurst = 0.5, 3
	cfg.HTTP.RateLimit.UserToken, cfg.HTTP.RateLimit.UserTokenBurst = 0.5, 2
	h := newHarness(t, cfg, Options{})
	h.loadDirectory()

	for range 3 {
		h.host("GET", "/api/v1/types", nil).want(t, http.StatusOK, nil)
	}
	r := h.host("GET", "/api/v1/types", nil)
	r.wantError(t, http.StatusTooManyRequests, codeRateLimited, "")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Errorf("Retry-After %q, want 1 or 2 seconds", r.header.Get("Retry-After"))
	}
	// Another key has a bucket of its own.
	_, other, err := h.svc.CreateAPIKey(t.Context(), "other")
	if err != nil {
		t.Fatal(err)
	}
	h.do(req{method: "GET", path: "/api/v1/types", token: other}).want(t, http.StatusOK, nil)

	// User tokens: per user, whatever the token.
	tok1, tok1b, tok2 := h.userToken("1"), h.userToken("1"), h.userToken("2")
	h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok1}).want(t, http.StatusOK, nil)
	h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok1b}).want(t, http.StatusOK, nil)
	h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok1}).wantError(t, http.StatusTooManyRequests, codeRateLimited, "")
	h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok2}).want(t, http.StatusOK, nil)
}

func TestCORS(t *testing.T) {
	cfg := testConfig("sqlite:" + t.TempDir() + "/c.db")
	cfg.HTTP.CORSOrigins = []string{"https://app.example.org"}
	h := newHarness(t, cfg, Options{})
	h.loadDirectory()
	preflight := func(origin string) *response {
		return h.do(req{method: "OPTIONS", path: "/api/v1/me/notifications", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}})
	}
	r := preflight("https://app.example.org")
	r.want(t, http.StatusNoContent, nil)
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") || r.header.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight headers %v", r.header)
	}
	r = preflight("https://evil.example.com")
	r.wantError(t, http.StatusForbidden, codeOriginForbidden, "")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin allowed: %v", r.header)
	}

	tok := h.userToken("1")
	r = h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok, header: map[string]string{"Origin": "https://app.example.org"}})
	r.want(t, http.StatusOK, nil)
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "X-Request-Id") || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Errorf("simple request headers %v", r.header)
	}
	r = h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok, header: map[string]string{"Origin": "https://evil.example.com"}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", r.header)
	}
	// No Origin: no CORS headers, nothing refused.
	r = h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok})
	r.want(t, http.StatusOK, nil)
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS headers without an Origin: %v", r.header)
	}
}
