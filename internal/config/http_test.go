package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func TestHTTPAndAuthSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloche.toml")
	err := os.WriteFile(path, []byte(`
[http]
addr = ":9090"
cors_origins = ["https://app.example.org"]
request_timeout = "5s"

[http.rate_limit]
api_key = 50
api_key_burst = 60

[http.inbox_cache]
ttl = "250ms"

[auth]
token_ttl = "15m"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"CLOCHE_HTTP__CORS_ORIGINS=https://a.example.org, http://localhost:3000",
		"CLOCHE_HTTP__RATE_LIMIT__USER_TOKEN=0",
		"CLOCHE_AUTH__TOKEN_SECRET=" + strings.Repeat("s", 32),
	}
	cfg, err := Load(path, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":9090" || cfg.HTTP.RequestTimeout.D() != 5*time.Second {
		t.Errorf("http from file: %+v", cfg.HTTP)
	}
	if strings.Join(cfg.HTTP.CORSOrigins, " ") != "https://a.example.org http://localhost:3000" {
		t.Errorf("cors_origins from the environment: %q", cfg.HTTP.CORSOrigins)
	}
	if r := cfg.HTTP.RateLimit; r.APIKey != 50 || r.APIKeyBurst != 60 || r.UserToken != 0 || r.UserTokenBurst != 40 {
		t.Errorf("rate_limit: %+v", r)
	}
	if c := cfg.HTTP.InboxCache; c.TTL.D() != 250*time.Millisecond || c.MaxUsers != 100000 {
		t.Errorf("inbox_cache: %+v", c)
	}
	if cfg.Auth.TokenTTL.D() != 15*time.Minute || cfg.Auth.TokenMaxTTL.D() != 24*time.Hour || len(cfg.Auth.TokenSecret) != 32 {
		t.Errorf("auth: %+v", cfg.Auth)
	}
	if d := Default(); d.HTTP.Addr != "127.0.0.1:8080" || d.Validate() != nil {
		t.Errorf("default http.addr %q, validate: %v", d.HTTP.Addr, d.Validate())
	}
}

func TestHTTPAndAuthRejects(t *testing.T) {
	cases := []struct {
		env   string
		field string
	}{
		{"CLOCHE_HTTP__ADDR=localhost", "http.addr"},
		{"CLOCHE_HTTP__REQUEST_TIMEOUT=0s", "http.request_timeout"},
		{"CLOCHE_HTTP__MAX_BODY_BYTES=10", "http.max_body_bytes"},
		{"CLOCHE_HTTP__CORS_ORIGINS=https://app.example.org/widget", "http.cors_origins"},
		{"CLOCHE_HTTP__CORS_ORIGINS=app.example.org", "http.cors_origins"},
		{"CLOCHE_HTTP__RATE_LIMIT__API_KEY=-1", "http.rate_limit"},
		{"CLOCHE_HTTP__RATE_LIMIT__USER_TOKEN_BURST=0", "http.rate_limit.user_token_burst"},
		{"CLOCHE_HTTP__INBOX_CACHE__TTL=-1s", "http.inbox_cache.ttl"},
		{"CLOCHE_HTTP__INBOX_CACHE__MAX_USERS=0", "http.inbox_cache.max_users"},
		{"CLOCHE_AUTH__TOKEN_SECRET=short", "auth.token_secret"},
		{"CLOCHE_AUTH__TOKEN_MAX_TTL=1m", "auth.token_max_ttl"},
		{"CLOCHE_HTTP__TRUSTED_PROXIES=10.0.0.1, proxy.example.org", "http.trusted_proxies"},
		{"CLOCHE_HTTP__TRUSTED_PROXIES=10.0.0.0/33", "http.trusted_proxies"},
		{"CLOCHE_HTTP__TLS_CERT_FILE=/etc/cloche/cert.pem", "http.tls_key_file"},
		{"CLOCHE_HTTP__TLS_KEY_FILE=/etc/cloche/key.pem", "http.tls_cert_file"},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			_, err := Load("", []string{tc.env}, nil)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

func TestTrustedProxiesAndTLS(t *testing.T) {
	cfg, err := Load("", []string{"CLOCHE_HTTP__TRUSTED_PROXIES=10.0.0.5, 192.168.0.0/16,::1", "CLOCHE_CONSOLE__SECURE_COOKIES=true"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Console.SecureCookies {
		t.Error("console.secure_cookies not read from the environment")
	}
	var got []string
	for _, p := range cfg.HTTP.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.5/32 192.168.0.0/16 ::1/128" {
		t.Errorf("trusted proxies = %v", got)
	}
	if tc, err := cfg.HTTP.TLSConfig(); tc != nil || err != nil {
		t.Errorf("TLSConfig without files = %v, %v; want nil, nil", tc, err)
	}

	// Files that cannot be read, or that are no certificate, are named.
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cert, key, field, says string
	}{
		{filepath.Join(dir, "missing.pem"), junk, "http.tls_cert_file", "cannot be read"},
		{junk, filepath.Join(dir, "missing.pem"), "http.tls_key_file", "cannot be read"},
		{junk, junk, "http.tls_cert_file", "not a PEM certificate"},
	} {
		h := Default().HTTP
		h.TLSCertFile, h.TLSKeyFile = tc.cert, tc.key
		_, err := h.TLSConfig()
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Problem, tc.says) {
			t.Errorf("TLSConfig(%s, %s) = %v, want a field error on %s saying %q", tc.cert, tc.key, err, tc.field, tc.says)
		}
	}
}
