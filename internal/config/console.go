package config

import (
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/store"
)

// Console configures the operators' console (/console).
type Console struct {
	// AdminPassword lets an operator log in. Empty: only API keys log in
	// (when the HTTP API checks them); with neither, the console is closed.
	AdminPassword string `koanf:"admin_password"`
	// SessionSecret signs the console's cookies. Empty: a random secret
	// per process, so that logins end when the process restarts and are
	// not shared between processes behind one address.
	SessionSecret string `koanf:"session_secret"`
	// SessionTTL is how long a login lasts.
	SessionTTL Duration `koanf:"session_ttl"`
	// TrustedOrigins are origins besides the console's own allowed to post
	// its forms, e.g. "https://admin.example.org" behind a proxy that
	// rewrites the Host header.
	TrustedOrigins []string `koanf:"trusted_origins"`
	// SecureCookies marks the console's cookies Secure whatever the
	// request: set it when the console is reached over HTTPS only.
	// Without it they are Secure over TLS served by Cloche, or when a
	// trusted proxy (http.trusted_proxies) says X-Forwarded-Proto: https.
	SecureCookies bool `koanf:"secure_cookies"`
}

// Bounds of the console settings.
const (
	MinAdminPassword = 12 // characters
	MinSessionSecret = 32 // bytes
)

func (c Console) validate() []error {
	var errs []error
	if c.AdminPassword != "" && utf8.RuneCountInString(c.AdminPassword) < MinAdminPassword {
		errs = append(errs, store.Invalid("console.admin_password", "must be at least %d characters long", MinAdminPassword).
			WithHint("or leave it empty to close the password login"))
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < MinSessionSecret {
		errs = append(errs, store.Invalid("console.session_secret", "must be at least %d bytes long", MinSessionSecret).
			WithHint("e.g. the output of `openssl rand -hex 32`"))
	}
	if c.SessionTTL < Duration(5*time.Minute) || c.SessionTTL > Duration(30*24*time.Hour) {
		errs = append(errs, store.Invalid("console.session_ttl", "must be between 5m and 30d, not %s", c.SessionTTL))
	}
	for _, o := range c.TrustedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			errs = append(errs, store.Invalid("console.trusted_origins", "%q is not an origin such as https://admin.example.org", o))
		}
	}
	return errs
}
