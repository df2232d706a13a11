package config

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// HTTP configures the API server that `cloche serve` runs.
type HTTP struct {
	// Addr is the host:port the server listens on.
	Addr string `koanf:"addr"`
	// ReadHeaderTimeout bounds how long a client may take to send its
	// request headers.
	ReadHeaderTimeout Duration `koanf:"read_header_timeout"`
	// RequestTimeout bounds a request from its start to its last byte
	// written (event streams excepted).
	RequestTimeout Duration `koanf:"request_timeout"`
	// IdleTimeout closes kept-alive connections that stay idle that long.
	IdleTimeout Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds the wait for requests in flight when the
	// server stops.
	ShutdownTimeout Duration `koanf:"shutdown_timeout"`
	// MaxBodyBytes bounds a request body; MaxImportBytes the body of a
	// directory import.
	MaxBodyBytes   int64 `koanf:"max_body_bytes"`
	MaxImportBytes int64 `koanf:"max_import_bytes"`
	// CORSOrigins are the origins (https://app.example.org) of the pages
	// that embed the widget; "*" allows any. Empty: no cross-origin access.
	CORSOrigins []string   `koanf:"cors_origins"`
	RateLimit   RateLimit  `koanf:"rate_limit"`
	InboxCache  InboxCache `koanf:"inbox_cache"`
	// TrustedProxies are the addresses (10.0.0.5) and networks
	// (10.0.0.0/8) of the reverse proxies in front of Cloche: only their
	// X-Forwarded-Proto and X-Forwarded-For are believed. Empty: none.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile, both set, make `cloche serve` serve
	// HTTPS itself (PEM files: the certificate chain, its private key).
	TLSCertFile string `koanf:"tls_cert_file"`
	TLSKeyFile  string `koanf:"tls_key_file"`
}

// TrustedProxyPrefixes returns TrustedProxies as networks (an address is
// a network of one). Entries that do not parse are left out: Validate
// refuses them.
func (h HTTP) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range h.TrustedProxies {
		if p, ok := parseProxy(s); ok {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// TLSConfig loads the certificate and key of http.tls_cert_file and
// http.tls_key_file, or returns nil when TLS is not configured. Its
// errors name the setting at fault. It is checked when `cloche serve`
// starts rather than by Validate, so that commands that do not serve work
// where the key file cannot be read.
func (h HTTP) TLSConfig() (*tls.Config, error) {
	if h.TLSCertFile == "" && h.TLSKeyFile == "" {
		return nil, nil
	}
	for _, f := range []struct{ name, path string }{{"http.tls_cert_file", h.TLSCertFile}, {"http.tls_key_file", h.TLSKeyFile}} {
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, store.Invalid(f.name, "%q cannot be read: %v", f.path, errors.Unwrap(err))
		}
	}
	cert, err := tls.LoadX509KeyPair(h.TLSCertFile, h.TLSKeyFile)
	if err != nil {
		return nil, store.Invalid("http.tls_cert_file", "%q and http.tls_key_file %q are not a PEM certificate and its private key: %v",
			h.TLSCertFile, h.TLSKeyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

// InboxCache keeps in memory the answers of users' unread counts and first
// inbox pages. This process's writes refresh them at once, as do other
// processes' writes that the live feed names (changes by users, new
// notifications to users with a stream open here); TTL bounds the age of
// the others (a new notification to a user without a stream, written by
// another process; one that shows or expires with time).
type InboxCache struct {
	TTL      Duration `koanf:"ttl"`       // 0 turns the cache off
	MaxUsers int      `koanf:"max_users"` // users kept at most
}

// RateLimit bounds the requests of each caller: per API key, and per user
// for user tokens. A rate of 0 turns the limit off.
type RateLimit struct {
	APIKey         float64 `koanf:"api_key"`          // requests per second
	APIKeyBurst    int     `koanf:"api_key_burst"`    // requests at once
	UserToken      float64 `koanf:"user_token"`       // requests per second
	UserTokenBurst int     `koanf:"user_token_burst"` // requests at once
}

// Auth configures the user tokens that browsers send.
type Auth struct {
	// TokenSecret signs user tokens (JWT, HS256). Empty: Cloche generates
	// one on first start and keeps it in the database, where every
	// process sharing the database finds it (`cloche token secret` shows
	// it, for a host that mints tokens itself).
	TokenSecret string `koanf:"token_secret"`
	// TokenTTL is the life of the tokens Cloche mints.
	TokenTTL Duration `koanf:"token_ttl"`
	// TokenMaxTTL is the longest life a token may claim: a token whose
	// exp is further away is refused, wherever it was minted.
	TokenMaxTTL Duration `koanf:"token_max_ttl"`
}

// MinTokenSecretLen is the shortest accepted token secret: HS256 wants a
// key at least as long as its hash.
const MinTokenSecretLen = 32

func defaultHTTP() HTTP {
	return HTTP{
		Addr:              "127.0.0.1:8080",
		ReadHeaderTimeout: Duration(10 * time.Second),
		RequestTimeout:    Duration(30 * time.Second),
		IdleTimeout:       Duration(2 * time.Minute),
		ShutdownTimeout:   Duration(30 * time.Second),
		MaxBodyBytes:      1 << 20,
		MaxImportBytes:    64 << 20,
		RateLimit: RateLimit{
			APIKey:         500,
			APIKeyBurst:    1000,
			UserToken:      10,
			UserTokenBurst: 40,
		},
		InboxCache: InboxCache{TTL: Duration(time.Second), MaxUsers: 100000},
	}
}

func defaultAuth() Auth {
	return Auth{TokenTTL: Duration(time.Hour), TokenMaxTTL: Duration(24 * time.Hour)}
}

func (h HTTP) validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(h.Addr); err != nil || port == "" {
		errs = append(errs, store.Invalid("http.addr", "%q is not host:port (e.g. 127.0.0.1:8080, :8080)", h.Addr))
	}
	for name, d := range map[string]Duration{
		"http.read_header_timeout": h.ReadHeaderTimeout,
		"http.request_timeout":     h.RequestTimeout,
		"http.idle_timeout":        h.IdleTimeout,
		"http.shutdown_timeout":    h.ShutdownTimeout,
	} {
		if d <= 0 {
			errs = append(errs, store.Invalid(name, "must be positive"))
		}
	}
	if h.MaxBodyBytes < 1024 {
		errs = append(errs, store.Invalid("http.max_body_bytes", "must be at least 1024"))
	}
	if h.MaxImportBytes < h.MaxBodyBytes {
		errs = append(errs, store.Invalid("http.max_import_bytes", "must be at least http.max_body_bytes"))
	}
	for _, o := range h.CORSOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || strings.HasSuffix(o, "/") {
			errs = append(errs, store.Invalid("http.cors_origins", "%q is not an origin (scheme://host[:port], e.g. https://app.example.org)", o))
		}
	}
	r := h.RateLimit
	if r.APIKey < 0 || r.UserToken < 0 {
		errs = append(errs, store.Invalid("http.rate_limit", "rates must not be negative (0 turns a limit off)"))
	}
	if r.APIKey > 0 && r.APIKeyBurst < 1 {
		errs = append(errs, store.Invalid("http.rate_limit.api_key_burst", "must be at least 1"))
	}
	if r.UserToken > 0 && r.UserTokenBurst < 1 {
		errs = append(errs, store.Invalid("http.rate_limit.user_token_burst", "must be at least 1"))
	}
	for _, p := range h.TrustedProxies {
		if _, ok := parseProxy(p); !ok {
			errs = append(errs, store.Invalid("http.trusted_proxies", "%q is neither an IP address nor a network (10.0.0.5, 10.0.0.0/8, fd00::/8)", p))
		}
	}
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		field, other := "http.tls_key_file", "http.tls_cert_file"
		if h.TLSCertFile == "" {
			field, other = other, field
		}
		errs = append(errs, store.Invalid(field, "must be set with %s (both or neither)", other))
	}
	if c := h.InboxCache; c.TTL < 0 {
		errs = append(errs, store.Invalid("http.inbox_cache.ttl", "must not be negative (0 turns the cache off)"))
	} else if c.TTL > 0 && c.MaxUsers < 1 {
		errs = append(errs, store.Invalid("http.inbox_cache.max_users", "must be at least 1"))
	}
	return errors.Join(errs...)
}

func (a Auth) validate() error {
	var errs []error
	if a.TokenSecret != "" && len(a.TokenSecret) < MinTokenSecretLen {
		errs = append(errs, store.Invalid("auth.token_secret", "must be at least %d bytes long", MinTokenSecretLen))
	}
	if a.TokenTTL <= 0 {
		errs = append(errs, store.Invalid("auth.token_ttl", "must be positive"))
	}
	if a.TokenMaxTTL < a.TokenTTL {
		errs = append(errs, store.Invalid("auth.token_max_ttl", "must be at least auth.token_ttl"))
	}
	return errors.Join(errs...)
}
