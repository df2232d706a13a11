package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cookie names. They live under the console's path only.
const (
	sessionCookie = "cloche_console"
	loginCookie   = "cloche_console_login"
	flashCookie   = "cloche_console_flash"
)

// How long the login form's token and a flash message stay valid.
const (
	loginFormTTL = time.Hour
	flashTTL     = time.Minute
)

// signer signs and checks cookie values. Each purpose has its own key,
// derived from the secret, so that a value made for one purpose is never
// accepted for another.
type signer struct {
	session, login, flash, csrf []byte
}

// newSigner derives the keys from secret. The session key also depends on
// the admin password: changing the password ends every login.
func newSigner(secret []byte, adminPassword string) *signer {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("cloche console\x00" + purpose + "\x00"))
		if purpose == "session" {
			m.Write([]byte(adminPassword))
		}
		return m.Sum(nil)
	}
	return &signer{session: derive("session"), login: derive("login"), flash: derive("flash"), csrf: derive("csrf")}
}

var b64 = base64.RawURLEncoding

// seal returns payload as JSON, then ".", then its MAC under key.
func seal(key []byte, payload any) (string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	body := b64.EncodeToString(raw)
	return body + "." + b64.EncodeToString(mac(key, body)), nil
}

var errBadSeal = errors.New("bad or forged cookie")

// open checks value's MAC under key (in constant time) and decodes its
// payload into v.
func open(key []byte, value string, v any) error {
	body, sig, ok := strings.Cut(value, ".")
	if !ok {
		return errBadSeal
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, body)) {
		return errBadSeal
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return errBadSeal
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errBadSeal
	}
	return nil
}

func mac(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return b64.EncodeToString(b)
}

// session is what the session cookie holds.
type session struct {
	// Who is "admin" (the admin password) or "api-key".
	Who string `json:"who"`
	// ID identifies the login: the CSRF token derives from it, and logout
	// revokes it.
	ID      string `json:"id"`
	Expires int64  `json:"exp"` // Unix seconds
	// KeyID is the API key an "api-key" login was opened with: the
	// session lasts only while the key is active.
	KeyID int64 `json:"kid,omitempty"`
}

// csrfToken is the token every form of the session carries.
func (s *signer) csrfToken(id string) string {
	return b64.EncodeToString(mac(s.csrf, "form\x00"+id))
}

// loginToken is the token of the login form, tied to the login cookie.
func (s *signer) loginToken(nonce string) string {
	return b64.EncodeToString(mac(s.csrf, "login\x00"+nonce))
}

// sameToken compares a submitted token with the expected one in constant
// time.
func sameToken(got, want string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// samePassword compares two secrets in constant time, whatever their
// lengths (their hashes have the same length).
func samePassword(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// loginState is the login cookie: a nonce the login form's token derives
// from.
type loginState struct {
	Nonce   string `json:"n"`
	Expires int64  `json:"exp"`
}

// flash is a message shown once, on the page a form redirects to.
type flash struct {
	Kind    string   `json:"k"` // "ok" or "warn"
	Lines   []string `json:"l"`
	Expires int64    `json:"exp"`
}

// revocations remembers the logins ended by logout until they would have
// expired anyway. It lives in the process: a cookie copied before logout
// stays valid on another process sharing the secret, until it expires.
type revocations struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func (r *revocations) revoke(id string, until, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]time.Time{}
	}
	for k, exp := range r.ids {
		if now.After(exp) {
			delete(r.ids, k)
		}
	}
	r.ids[id] = until
}

func (r *revocations) revoked(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// throttle limits failed logins per client address: after maxFailures in
// a window, logins from that address are refused until the window ends.
// An attempt is counted before the secret is checked (and given back when
// it succeeds), so that attempts sent at once cannot all slip through
// before the first failure is recorded.
//
// The table of addresses is bounded. When it is full of addresses still
// in their window, the addresses it cannot track share one allowance of
// overflowFailures per window: a full table fails closed, never open.
type throttle struct {
	mu          sync.Mutex
	maxFailures int
	window      time.Duration
	clients     map[string]*failures
	overflow    failures  // the shared allowance of untracked addresses
	lastSweep   time.Time // when a full table was last swept
}

type failures struct {
	count int
	reset time.Time
}

const (
	// maxThrottled bounds the memory the throttle uses.
	maxThrottled = 10000
	// overflowFailures is the allowance shared, per window, by the
	// addresses a full table cannot track.
	overflowFailures = 100
)

// attempt counts a login attempt of client and returns zero, or how long
// the client must wait (the attempt is then not counted).
func (t *throttle) attempt(client string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, limit := t.entry(client, now)
	if now.After(f.reset) {
		f.count, f.reset = 0, now.Add(t.window)
	}
	if f.count >= limit {
		return f.reset.Sub(now)
	}
	f.count++
	return 0
}

// entry returns the failures client is counted in, and their limit: its
// own when the table has room, else the shared overflow.
func (t *throttle) entry(client string, now time.Time) (*failures, int) {
	if t.clients == nil {
		t.clients = map[string]*failures{}
	}
	if f := t.clients[client]; f != nil {
		return f, t.maxFailures
	}
	if len(t.clients) >= maxThrottled && now.Sub(t.lastSweep) >= time.Second {
		t.lastSweep = now
		for k, f := range t.clients {
			if now.After(f.reset) {
				delete(t.clients, k)
			}
		}
	}
	if len(t.clients) < maxThrottled {
		f := &failures{reset: now.Add(t.window)}
		t.clients[client] = f
		return f, t.maxFailures
	}
	return &t.overflow, overflowFailures
}

// refund gives back an attempt that was not a failure (the secret could
// not be checked).
func (t *throttle) refund(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.clients[client]
	if f == nil {
		f = &t.overflow
	}
	if f.count > 0 {
		f.count--
	}
}

// succeed forgets client's failures after a successful login.
func (t *throttle) succeed(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.clients[client]; ok {
		delete(t.clients, client)
		return
	}
	if t.overflow.count > 0 {
		t.overflow.count--
	}
}

// setCookie writes a console cookie: HttpOnly, SameSite=Strict, under the
// console's path, Secure over HTTPS (served by Cloche, or announced by a
// trusted proxy) or when console.secure_cookies is set.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: c.prefix,
		MaxAge:   int(maxAge / time.Second),
		Expires:  c.now().Add(maxAge),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.cfg.SecureCookies || c.overHTTPS(r),
	})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: c.prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.cfg.SecureCookies || c.overHTTPS(r),
	})
}

// currentSession returns the request's valid session, or nil. A session
// opened with an API key is valid only while the key is active: the key
// store is asked at every request, so that revoking the key ends the
// session at once. The error says the key could not be checked.
func (c *Console) currentSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	var s session
	if err := open(c.keys.session, ck.Value, &s); err != nil {
		return nil, nil
	}
	if c.now().Unix() >= s.Expires || s.ID == "" || c.revoked.revoked(s.ID) {
		return nil, nil
	}
	if s.Who != "api-key" {
		return &s, nil
	}
	if s.KeyID == 0 || c.cfg.KeyChecker == nil {
		return nil, nil // not bound to a key: refused
	}
	active, err := c.cfg.KeyChecker.APIKeyActive(r.Context(), s.KeyID)
	if err != nil {
		return nil, err
	}
	if !active {
		c.logger.InfoContext(r.Context(), "console: the API key of a session was revoked: session ended", "key_id", s.KeyID)
		return nil, nil
	}
	return &s, nil
}

// setFlash leaves a message for the next page.
func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, kind string, lines ...string) {
	v, err := seal(c.keys.flash, flash{Kind: kind, Lines: lines, Expires: c.now().Add(flashTTL).Unix()})
	if err != nil {
		return
	}
	c.setCookie(w, r, flashCookie, v, flashTTL)
}

// takeFlash reads and clears the message left for this page.
func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	c.clearCookie(w, r, flashCookie)
	var f flash
	if err := open(c.keys.flash, ck.Value, &f); err != nil || c.now().Unix() >= f.Expires {
		return nil
	}
	return &f
}
