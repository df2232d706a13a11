package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/config"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.css
var consoleCSS []byte

//go:embed static/favicon.svg
var faviconSVG []byte

// KeyChecker tells whether an API key may log in to the console, and
// whether the key a session was opened with is still active. The service
// (its API key store) implements it.
type KeyChecker interface {
	// CheckAPIKey returns the id of key when it is an active API key.
	CheckAPIKey(ctx context.Context, key string) (id int64, ok bool, err error)
	// APIKeyActive reports whether key id is still active (not revoked).
	APIKeyActive(ctx context.Context, id int64) (bool, error)
}

// ConsoleConfig configures a Console.
type ConsoleConfig struct {
	// Prefix is the path the console is served under; default "/console".
	Prefix string
	// AdminPassword logs an operator in; empty: only API keys do.
	AdminPassword string
	// SessionSecret signs the cookies; empty: random, for this process
	// only.
	SessionSecret []byte
	// SessionTTL is how long a login lasts; default 12h.
	SessionTTL time.Duration
	// TrustedOrigins may post the console's forms besides its own origin
	// ("https://admin.example.org").
	TrustedOrigins []string
	// KeyChecker, when set, lets an operator log in with an API key.
	KeyChecker KeyChecker
	// SecureCookies marks the cookies Secure even when the request did not
	// come over TLS (HTTPS ends at a proxy in front of Cloche).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-Proto
	// (https: the cookies are Secure) and X-Forwarded-For (the client's
	// address, for the login throttle) are believed.
	TrustedProxies []netip.Prefix
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// ConsoleConfigFrom maps the console section of the configuration.
func ConsoleConfigFrom(c config.Console) ConsoleConfig {
	return ConsoleConfig{
		AdminPassword:  c.AdminPassword,
		SessionSecret:  []byte(c.SessionSecret),
		SessionTTL:     c.SessionTTL.D(),
		TrustedOrigins: c.TrustedOrigins,
		SecureCookies:  c.SecureCookies,
	}
}

// Console is the operators' console, an http.Handler for every path under
// its prefix. Mount it with Register.
type Console struct {
	svc    *cloche.Service
	cfg    ConsoleConfig
	logger *slog.Logger
	prefix string
	mux    *http.ServeMux
	// pages are parsed in the background from NewConsole on, off the
	// start path; pagesDone is closed once they are (or pagesErr says why
	// not).
	pages     map[string]*template.Template
	pagesErr  error
	pagesDone chan struct{}
	keys      *signer
	revoked   revocations
	logins    throttle
	origins   *http.CrossOriginProtection
	cssETag   string
	now       func() time.Time
}

// NewConsole builds the console of svc. With neither an admin password nor
// a KeyChecker it still serves, and its login page says how to open it.
func NewConsole(svc *cloche.Service, cfg ConsoleConfig, logger *slog.Logger) (*Console, error) {
	if svc == nil {
		return nil, errors.New("web: console: no service")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/console"
	}
	cfg.Prefix = "/" + strings.Trim(cfg.Prefix, "/")
	if cfg.Prefix == "/" {
		return nil, errors.New("web: console: the prefix must name a path, such as /console")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if len(cfg.SessionSecret) == 0 {
		cfg.SessionSecret = make([]byte, 32)
		_, _ = rand.Read(cfg.SessionSecret)
	}
	c := &Console{
		svc: svc, cfg: cfg, logger: logger, prefix: cfg.Prefix,
		keys:    newSigner(cfg.SessionSecret, cfg.AdminPassword),
		logins:  throttle{maxFailures: 10, window: 15 * time.Minute},
		origins: http.NewCrossOriginProtection(),
		now:     cfg.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, o := range cfg.TrustedOrigins {
		if err := c.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: console: trusted origin %q: %w", o, err)
		}
	}
	sum := sha256.Sum256(consoleCSS)
	c.cssETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	c.pagesDone = make(chan struct{})
	go func() {
		defer close(c.pagesDone)
		c.pages, c.pagesErr = parsePages(c.funcs())
	}()
	c.routes()
	return c, nil
}

// Enabled reports whether anyone can log in.
func (c *Console) Enabled() bool { return c.cfg.AdminPassword != "" || c.cfg.KeyChecker != nil }

// Prefix is the path the console is served under ("/console").
func (c *Console) Prefix() string { return c.prefix }

// Register mounts the console on mux, at its prefix and everything under
// it.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle(c.prefix, c)
	mux.Handle(c.prefix+"/", c)
}

// ServeHTTP serves the console's pages.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	p := c.prefix
	m := http.NewServeMux()
	m.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET "+p+"/static/console.css", c.serveCSS)
	m.HandleFunc("GET "+p+"/static/favicon.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(faviconSVG)
	})
	m.HandleFunc("GET "+p+"/login", c.loginForm)
	m.HandleFunc("POST "+p+"/login", c.login)
	m.HandleFunc("POST "+p+"/logout", c.authed(c.logout))
	m.HandleFunc("GET "+p+"/{$}", c.authed(c.dashboard))
	m.HandleFunc("GET "+p+"/send", c.authed(c.sendForm))
	m.HandleFunc("POST "+p+"/send", c.authed(c.send))
	m.HandleFunc("GET "+p+"/events", c.authed(c.events))
	m.HandleFunc("GET "+p+"/events/{id}", c.authed(c.event))
	m.HandleFunc("POST "+p+"/events/cancel", c.authed(c.cancelEvents))
	m.HandleFunc("POST "+p+"/events/{id}/cancel", c.authed(c.cancelEvent))
	m.HandleFunc("GET "+p+"/types", c.authed(c.types))
	m.HandleFunc("GET "+p+"/types/new", c.authed(c.newType))
	m.HandleFunc("GET "+p+"/types/edit", c.authed(c.editType))
	m.HandleFunc("POST "+p+"/types", c.authed(c.saveType))
	m.HandleFunc("GET "+p+"/types/defaults", c.authed(c.typeDefaults))
	m.HandleFunc("POST "+p+"/types/defaults", c.authed(c.saveTypeDefaults))
	m.HandleFunc("GET "+p+"/deliveries", c.authed(c.deliveries))
	m.HandleFunc("POST "+p+"/deliveries/{id}/retry", c.authed(c.retryDelivery))
	m.HandleFunc("GET "+p+"/webhooks", c.authed(c.webhooks))
	m.HandleFunc("POST "+p+"/webhooks", c.authed(c.addWebhook))
	m.HandleFunc("POST "+p+"/webhooks/{id}/{action}", c.authed(c.webhookAction))
	m.HandleFunc("GET "+p+"/directory", c.authed(c.directory))
	m.HandleFunc("GET "+p+"/directory/user", c.authed(c.user))
	m.HandleFunc("POST "+p+"/directory/user/preferences", c.authed(c.saveUserPreferences))
	m.HandleFunc(p+"/", c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such page", "There is no console page at this address.")
	}))
	c.mux = m
}

func (c *Console) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", c.cssETag)
	if r.Header.Get("If-None-Match") == c.cssETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(consoleCSS)
}

// maxForm bounds a posted form (a notification body is at most 64 KiB).
const maxForm = 1 << 20

// authed wraps a page that needs a login. A GET without one goes to the
// login page and comes back; a POST without one is sent to the login page.
// Every POST must also come from the console's origin and carry the
// session's form token, or it is refused with 403.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			c.logger.ErrorContext(r.Context(), "console: checking the API key of a session", "err", err)
			c.errorPage(w, r, nil, http.StatusServiceUnavailable, "Unavailable",
				"The API key of this login could not be checked just now; try again.")
			return
		}
		if s == nil {
			target := c.prefix + "/login"
			if r.Method == http.MethodGet && r.URL.Path != c.prefix+"/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			if err := c.checkOrigin(r); err != nil {
				c.forbidden(w, r, s, err)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				c.errorPage(w, r, s, http.StatusBadRequest, "Bad form", "The form could not be read: "+err.Error())
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), c.keys.csrfToken(s.ID)) {
				c.forbidden(w, r, s, errors.New("the form's token is missing or is not this login's"))
				return
			}
		}
		h(w, r, s)
	}
}

// checkOrigin refuses a cross-origin POST: by Sec-Fetch-Site and Origin
// (net/http's CrossOriginProtection), else by Referer when only that is
// given.
func (c *Console) checkOrigin(r *http.Request) error {
	if err := c.origins.Check(r); err != nil {
		return err
	}
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
		return nil
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return nil // not a browser: the form token still has to match
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return errors.New("unreadable Referer")
	}
	if u.Host == r.Host {
		return nil
	}
	for _, o := range c.cfg.TrustedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), u.Scheme+"://"+u.Host) {
			return nil
		}
	}
	return fmt.Errorf("the Referer %s is another site", u.Host)
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, s *session, why error) {
	c.logger.WarnContext(r.Context(), "console: refused a form", "path", r.URL.Path, "client", c.clientAddr(r), "reason", why)
	c.errorPage(w, r, s, http.StatusForbidden, "Refused",
		"This form did not come from this console, or it has expired. Reload the page and send it again.")
}

// clientAddr is the address throttling counts failed logins by: the
// peer's, never a header a client can set, unless the peer is a trusted
// proxy: then the last address of X-Forwarded-For that is not a trusted
// proxy's (the one the first trusted proxy saw).
func (c *Console) clientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !c.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // unreadable: the peer is all we know
		}
		if a = a.Unmap(); !c.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// trusted reports whether a is a trusted proxy's address.
func (c *Console) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// overHTTPS reports whether the browser reached the console over HTTPS:
// the connection is TLS, or a trusted proxy says so in X-Forwarded-Proto
// (its last value, the one the nearest proxy set).
func (c *Console) overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	vals := r.Header.Values("X-Forwarded-Proto")
	if len(vals) == 0 || !c.trusted(peerAddr(r)) {
		return false
	}
	protos := strings.Split(vals[len(vals)-1], ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

// parsePages parses each page template with the layout.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[base] = t
	}
	return pages, nil
}
