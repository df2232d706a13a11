package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cloche/cloche"
)

// loginData is what the login page shows.
type loginData struct {
	Enabled  bool
	Password bool // the admin password is set
	Keys     bool // API keys are accepted
	Token    string
	Next     string
	Error    string
	Notice   string
}

// loginForm shows the login form, with a token tied to a login cookie so
// that the form cannot be posted from elsewhere.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	if s, _ := c.currentSession(r); s != nil {
		http.Redirect(w, r, c.safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := c.newLoginData(w, r)
	d.Next = r.URL.Query().Get("next")
	if r.URL.Query().Get("bye") != "" {
		d.Notice = "You are logged out."
	}
	status := http.StatusOK
	if !d.Enabled {
		status = http.StatusServiceUnavailable
	}
	c.render(w, r, nil, status, "login", "Log in", "", d)
}

// newLoginData sets a fresh login cookie and returns the form's data.
func (c *Console) newLoginData(w http.ResponseWriter, r *http.Request) *loginData {
	d := &loginData{Enabled: c.Enabled(), Password: c.cfg.AdminPassword != "", Keys: c.cfg.KeyChecker != nil}
	st := loginState{Nonce: randomToken(18), Expires: c.now().Add(loginFormTTL).Unix()}
	if v, err := seal(c.keys.login, st); err == nil {
		c.setCookie(w, r, loginCookie, v, loginFormTTL)
		d.Token = c.keys.loginToken(st.Nonce)
	}
	return d
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := c.checkOrigin(r); err != nil {
		c.forbidden(w, r, nil, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "Bad form", "The form could not be read.")
		return
	}
	var st loginState
	ck, err := r.Cookie(loginCookie)
	if err != nil || open(c.keys.login, ck.Value, &st) != nil || c.now().Unix() >= st.Expires ||
		!sameToken(r.PostForm.Get("csrf"), c.keys.loginToken(st.Nonce)) {
		c.forbidden(w, r, nil, errors.New("login form token missing, expired or forged"))
		return
	}
	next := r.PostForm.Get("next")
	retry := func(status int, msg string) {
		d := c.newLoginData(w, r)
		d.Next, d.Error = next, msg
		c.render(w, r, nil, status, "login", "Log in", "", d)
	}
	if !c.Enabled() {
		retry(http.StatusServiceUnavailable, "")
		return
	}
	client := c.clientAddr(r)
	// The attempt counts before the secret is checked: attempts sent at
	// once cannot all be checked before the first failure is recorded.
	if wait := c.logins.attempt(client, c.now()); wait > 0 {
		c.logger.WarnContext(r.Context(), "console: login refused, too many failures", "client", client)
		retry(http.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts: try again in %s.", humanDuration(wait.Round(time.Second))))
		return
	}
	secret := r.PostForm.Get("password")
	who, keyID, err := c.authenticate(r, secret)
	if err != nil {
		c.logins.refund(client)
		c.logger.ErrorContext(r.Context(), "console: checking an API key", "err", err)
		retry(http.StatusServiceUnavailable, "The API key could not be checked just now; try again.")
		return
	}
	if who == "" {
		c.logger.WarnContext(r.Context(), "console: failed login", "client", client)
		msg := "Wrong password."
		if c.cfg.KeyChecker != nil {
			msg = "Wrong password or API key."
		}
		retry(http.StatusUnauthorized, msg)
		return
	}
	c.logins.succeed(client)
	s := session{Who: who, ID: randomToken(18), Expires: c.now().Add(c.cfg.SessionTTL).Unix(), KeyID: keyID}
	v, err := seal(c.keys.session, s)
	if err != nil {
		c.serverError(w, r, nil, "start the session", err)
		return
	}
	c.setCookie(w, r, sessionCookie, v, c.cfg.SessionTTL)
	c.clearCookie(w, r, loginCookie)
	c.logger.InfoContext(r.Context(), "console: login", "who", who, "key_id", keyID, "client", client)
	http.Redirect(w, r, c.safeNext(next), http.StatusSeeOther)
}

// authenticate returns who the secret logs in as ("admin", "api-key"), or
// "" when it logs in as no one; for an API key, the key's id too.
func (c *Console) authenticate(r *http.Request, secret string) (string, int64, error) {
	if secret == "" {
		return "", 0, nil
	}
	if c.cfg.AdminPassword != "" && samePassword(secret, c.cfg.AdminPassword) {
		return "admin", 0, nil
	}
	if c.cfg.KeyChecker != nil {
		id, ok, err := c.cfg.KeyChecker.CheckAPIKey(r.Context(), secret)
		if err != nil {
			return "", 0, err
		}
		if ok {
			return "api-key", id, nil
		}
	}
	return "", 0, nil
}

// safeNext keeps a redirect inside the console.
func (c *Console) safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, c.prefix+"/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n") {
		return c.prefix + "/"
	}
	return next
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.revoked.revoke(s.ID, time.Unix(s.Expires, 0), c.now())
	c.clearCookie(w, r, sessionCookie)
	c.logger.InfoContext(r.Context(), "console: logout", "who", s.Who)
	http.Redirect(w, r, c.prefix+"/login?bye=1", http.StatusSeeOther)
}

func isUnavailable(err error) bool { return errors.Is(err, cloche.ErrUnavailable) }
