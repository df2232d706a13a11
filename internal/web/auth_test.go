package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

func TestLogin(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), nil)

	t.Run("pages need a login", func(t *testing.T) {
		p := h.get("/console/events?status=pending")
		wantStatus(t, "GET /console/events", p, http.StatusSeeOther)
		if want := "/console/login?next=" + url.QueryEscape("/console/events?status=pending"); p.location() != want {
			t.Errorf("Location = %q, want %q", p.location(), want)
		}
		if p := h.get("/console"); p.status != http.StatusMovedPermanently || p.location() != "/console/" {
			t.Errorf("GET /console = %d → %q, want 301 → /console/", p.status, p.location())
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		p := h.login("correct horse battery stapler")
		wantStatus(t, "login", p, http.StatusUnauthorized)
		wantContains(t, "login", p, `id="password-error"`, "Wrong password.")
		if ck := setCookie(p, sessionCookie); ck != nil {
			t.Errorf("a wrong password set a session cookie: %v", ck)
		}
		wantStatus(t, "dashboard after a wrong password", h.get("/console/"), http.StatusSeeOther)
	})

	t.Run("login form token", func(t *testing.T) {
		p := h.post("/console/login", url.Values{"password": {testPassword}})
		wantStatus(t, "login without the form token", p, http.StatusForbidden)
		other := h.newClient() // another browser: its token is not ours
		h2 := *h
		h2.client = other
		tok := h2.token("/console/login")
		p = h.post("/console/login", url.Values{"password": {testPassword}, "csrf": {tok}})
		wantStatus(t, "login with another browser's token", p, http.StatusForbidden)
	})

	t.Run("right password", func(t *testing.T) {
		p := h.post("/console/login", url.Values{"csrf": {h.token("/console/login?next=%2Fconsole%2Ftypes")},
			"password": {testPassword}, "next": {"/console/types"}})
		wantStatus(t, "login", p, http.StatusSeeOther)
		if p.location() != "/console/types" {
			t.Errorf("Location = %q, want the page asked for", p.location())
		}
		ck := setCookie(p, sessionCookie)
		if ck == nil {
			t.Fatal("no session cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.MaxAge != 12*3600 {
			t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/console, Max-Age 12h", ck)
		}
		if ck.Secure {
			t.Errorf("session cookie is Secure over plain HTTP")
		}
		d := h.get("/console/")
		wantStatus(t, "dashboard", d, http.StatusOK)
		wantContains(t, "dashboard", d, "Notifications today", "Scheduler lag", "Failed deliveries", "Pending events")
		if cc := d.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		if csp := d.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
		if p := h.get("/console/login"); p.status != http.StatusSeeOther || p.location() != "/console/" {
			t.Errorf("login page when logged in = %d → %q, want a redirect to the dashboard", p.status, p.location())
		}
	})

	t.Run("logout", func(t *testing.T) {
		u, _ := url.Parse(h.srv.URL + "/console/")
		old := h.client.Jar.Cookies(u)
		p := h.post("/console/logout", url.Values{"csrf": {h.token("/console/")}})
		wantStatus(t, "logout", p, http.StatusSeeOther)
		wantStatus(t, "dashboard after logout", h.get("/console/"), http.StatusSeeOther)
		// The cookie of before the logout no longer opens anything.
		h.client.Jar.SetCookies(u, old)
		wantStatus(t, "dashboard with the cookie of before the logout", h.get("/console/"), http.StatusSeeOther)
	})
}

func TestRedirectStaysInConsole(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), nil)
	for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/elsewhere", "/console/\\evil", "/consolex"} {
		h.client = h.newClient()
		p := h.post("/console/login", url.Values{"csrf": {h.token("/console/login")}, "password": {testPassword}, "next": {next}})
		wantStatus(t, "login", p, http.StatusSeeOther)
		if p.location() != "/console/" {
			t.Errorf("next=%q: redirected to %q, want /console/", next, p.location())
		}
	}
}

func TestSessionCookie(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
		c.Now = func() time.Time { return now }
		c.SessionTTL = time.Hour
	})
	h.mustLogin()
	u, _ := url.Parse(h.srv.URL + "/console/")
	var value string
	for _, ck := range h.client.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			value = ck.Value
		}
	}
	set := func(v string) {
		h.client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: v, Path: "/console"}})
	}

	body, sig, _ := strings.Cut(value, ".")
	forged, err := seal([]byte("not the console's key, not at all"), session{Who: "admin", ID: "x", Expires: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
		status      int
	}{
		{"as issued", value, http.StatusOK},
		{"signature of another body", strings.ToUpper(body[:1]) + body[1:] + "." + sig, http.StatusSeeOther},
		{"no signature", body, http.StatusSeeOther},
		{"signed with another key", forged, http.StatusSeeOther},
		{"garbage", "%%%.%%%", http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "as issued" && tc.value == value {
				t.Skip("the altered value is the same")
			}
			set(tc.value)
			wantStatus(t, "dashboard", h.get("/console/"), tc.status)
		})
	}
	t.Run("expired", func(t *testing.T) {
		set(value)
		now = now.Add(59 * time.Minute)
		wantStatus(t, "dashboard before expiry", h.get("/console/"), http.StatusOK)
		now = now.Add(time.Minute)
		wantStatus(t, "dashboard at expiry", h.get("/console/"), http.StatusSeeOther)
	})
}

func TestPasswordChangeEndsLogins(t *testing.T) {
	svc := openService(t, testdb.SQLiteURL(t))
	secret := []byte("a shared secret of thirty-two bytes!!")
	h1 := newHarnessOn(t, svc, func(c *ConsoleConfig) { c.SessionSecret = secret })
	h1.mustLogin()
	u, _ := url.Parse(h1.srv.URL + "/console/")
	cookies := h1.client.Jar.Cookies(u)

	// Another process with the same secret and password accepts the login…
	same := newHarnessOn(t, svc, func(c *ConsoleConfig) { c.SessionSecret = secret })
	u2, _ := url.Parse(same.srv.URL + "/console/")
	same.client.Jar.SetCookies(u2, cookies)
	wantStatus(t, "same secret and password", same.get("/console/"), http.StatusOK)

	// …one whose password changed does not.
	changed := newHarnessOn(t, svc, func(c *ConsoleConfig) {
		c.SessionSecret = secret
		c.AdminPassword = "another password, longer"
	})
	u3, _ := url.Parse(changed.srv.URL + "/console/")
	changed.client.Jar.SetCookies(u3, cookies)
	wantStatus(t, "changed password", changed.get("/console/"), http.StatusSeeOther)
}

func TestCSRF(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
		c.TrustedOrigins = []string{"https://admin.example.org"}
	})
	h.mustLogin()
	res, err := h.svc.Notify(context.Background(), notification("to cancel", time.Hour), managers)
	if err != nil {
		t.Fatal(err)
	}
	cancelPath := "/console/events/" + itoa(res.EventID) + "/cancel"
	token := h.token("/console/events/" + itoa(res.EventID))
	self := h.srv.URL

	tests := []struct {
		name    string
		form    url.Values
		headers []string
		status  int
	}{
		{"no token", url.Values{"confirm": {"1"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {token + "x"}, "confirm": {"1"}}, nil, http.StatusForbidden},
		{"token of the login form", url.Values{"csrf": {h.console.keys.loginToken("n")}, "confirm": {"1"}}, nil, http.StatusForbidden},
		{"other origin", url.Values{"csrf": {token}, "confirm": {"1"}}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", url.Values{"csrf": {token}, "confirm": {"1"}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"other referer", url.Values{"csrf": {token}, "confirm": {"1"}}, []string{"Referer", "https://evil.example/page"}, http.StatusForbidden},
		{"trusted origin", url.Values{"csrf": {token}, "confirm": {"1"}}, []string{"Origin", "https://admin.example.org"}, http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := h.post(cancelPath, tc.form, tc.headers...)
			wantStatus(t, "POST cancel", p, tc.status)
			ev, err := h.svc.Event(context.Background(), res.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == http.StatusForbidden && ev.Status != "pending" {
				t.Fatalf("a refused POST changed the event: %s", ev.Status)
			}
			if tc.status == http.StatusSeeOther && ev.Status != "cancelled" {
				t.Fatalf("the accepted POST did not cancel: %s", ev.Status)
			}
		})
	}
	t.Run("same origin", func(t *testing.T) {
		res, err := h.svc.Notify(context.Background(), notification("to cancel too", time.Hour), managers)
		if err != nil {
			t.Fatal(err)
		}
		id := itoa(res.EventID)
		p := h.post("/console/events/"+id+"/cancel", url.Values{"csrf": {token}, "confirm": {"1"}},
			"Origin", self, "Sec-Fetch-Site", "same-origin", "Referer", self+"/console/events/"+id)
		wantStatus(t, "POST cancel from the console's own page", p, http.StatusSeeOther)
	})
	t.Run("unauthenticated post", func(t *testing.T) {
		anon := *h
		anon.client = h.newClient()
		p := anon.post(cancelPath, url.Values{"csrf": {token}, "confirm": {"1"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/console/login") {
			t.Errorf("POST without a login = %d → %q, want a redirect to the login page", p.status, p.location())
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), nil)
	for i := range 10 {
		if p := h.login("wrong password number " + itoa(int64(i))); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, p.status)
		}
	}
	p := h.login(testPassword)
	wantStatus(t, "login after 10 failures", p, http.StatusTooManyRequests)
	wantContains(t, "login after 10 failures", p, "Too many failed attempts")
}

// keys is a KeyChecker with a fixed set of keys (key → id).
type keys map[string]int64

func (k keys) CheckAPIKey(_ context.Context, key string) (int64, bool, error) {
	if key == "broken" {
		return 0, false, errors.New("key store down")
	}
	id, ok := k[key]
	return id, ok, nil
}

func (k keys) APIKeyActive(_ context.Context, id int64) (bool, error) {
	for _, v := range k {
		if v == id {
			return true, nil
		}
	}
	return false, nil
}

func TestAPIKeyLogin(t *testing.T) {
	t.Run("keys only", func(t *testing.T) {
		h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
			c.AdminPassword = ""
			c.KeyChecker = keys{"ck_live_good": 1}
		})
		p := h.get("/console/login")
		wantContains(t, "login page", p, ">API key</label>", "console.admin_password", "CLOCHE_CONSOLE__ADMIN_PASSWORD")
		wantStatus(t, "an unknown key", h.login("ck_live_bad"), http.StatusUnauthorized)
		wantStatus(t, "the password of another console", h.login(testPassword), http.StatusUnauthorized)
		wantStatus(t, "a key the checker cannot check", h.login("broken"), http.StatusServiceUnavailable)
		wantStatus(t, "a good key", h.login("ck_live_good"), http.StatusSeeOther)
		wantContains(t, "dashboard", h.get("/console/"), `<span class="who">API key</span>`)
	})
	t.Run("password and keys", func(t *testing.T) {
		h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) { c.KeyChecker = keys{"ck_live_good": 1} })
		p := h.get("/console/login")
		wantContains(t, "login page", p, "Admin password or API key")
		if strings.Contains(p.body, "No admin password is set") {
			t.Error("the login page says no admin password is set, and one is")
		}
		p = h.login("nope")
		wantContains(t, "wrong secret", p, "Wrong password or API key.")
		wantStatus(t, "password", h.login(testPassword), http.StatusSeeOther)
	})
}

func TestConsoleClosed(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) { c.AdminPassword = "" })
	if h.console.Enabled() {
		t.Fatal("Enabled() with neither password nor key checker")
	}
	p := h.get("/console/login")
	wantStatus(t, "login page", p, http.StatusServiceUnavailable)
	wantContains(t, "login page", p, "CLOCHE_CONSOLE__ADMIN_PASSWORD")
	if strings.Contains(p.body, `name="password"`) {
		t.Error("a closed console shows a login form")
	}
	wantStatus(t, "login post", h.post("/console/login", url.Values{"password": {""}}), http.StatusForbidden)
}

// setCookie returns the cookie named name that p sets, or nil.
func setCookie(p page, name string) *http.Cookie {
	for _, ck := range (&http.Response{Header: p.header}).Cookies() {
		if ck.Name == name && ck.MaxAge >= 0 {
			return ck
		}
	}
	return nil
}

// loginFrom is a login POST with secret from the address addr, carrying a
// fresh login cookie and its form token, served without a network.
func loginFrom(t testing.TB, c *Console, addr, secret string) int {
	t.Helper()
	st := loginState{Nonce: randomToken(18), Expires: c.now().Add(time.Hour).Unix()}
	v, err := seal(c.keys.login, st)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf": {c.keys.loginToken(st.Nonce)}, "password": {secret}}
	r := httptest.NewRequest(http.MethodPost, "/console/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: loginCookie, Value: v})
	r.RemoteAddr = addr + ":40000"
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w.Code
}

// Once the throttle tracks as many addresses as it can, the addresses it
// cannot track share one small allowance: a full table fails closed.
func TestLoginThrottleFullTableFailsClosed(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), nil)
	c := h.console
	addr := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range maxThrottled {
		if code := loginFrom(t, c, addr(i), "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("address %d: status %d, want 401", i, code)
		}
	}
	// Addresses past the table's size: at most the shared allowance of
	// guesses, then refused, each of them, the first time they are seen.
	refused := 0
	for i := maxThrottled; i < maxThrottled+overflowFailures+50; i++ {
		switch code := loginFrom(t, c, addr(i), "wrong"); code {
		case http.StatusTooManyRequests:
			refused++
		case http.StatusUnauthorized:
			if refused > 0 {
				t.Fatalf("address %d was let guess after others were refused", i)
			}
		default:
			t.Fatalf("address %d: status %d", i, code)
		}
	}
	if refused != 50 {
		t.Errorf("%d untracked addresses refused, want 50 (past the shared allowance of %d)", refused, overflowFailures)
	}
	// Even the right password is refused from an untracked address now…
	if code := loginFrom(t, c, "192.0.2.1", testPassword); code != http.StatusTooManyRequests {
		t.Errorf("untracked address with the right password: %d, want 429", code)
	}
	// …while an address the table tracks still logs in.
	if code := loginFrom(t, c, addr(7), testPassword); code != http.StatusSeeOther {
		t.Errorf("tracked address with the right password: %d, want 303", code)
	}
}

// blockingChecker holds every key check until released.
type blockingChecker struct{ arrived, release chan struct{} }

func (b blockingChecker) CheckAPIKey(context.Context, string) (int64, bool, error) {
	b.arrived <- struct{}{}
	<-b.release
	return 0, false, nil
}

func (blockingChecker) APIKeyActive(context.Context, int64) (bool, error) { return false, nil }

// Attempts sent at once from one address are counted as they arrive,
// before their secret is checked: no more than the limit are checked, even
// when none has failed yet.
func TestLoginThrottleCountsBeforeChecking(t *testing.T) {
	b := blockingChecker{arrived: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) { c.KeyChecker = b })
	const sent = 25
	results := make(chan int, sent)
	for range sent {
		go func() { results <- loginFrom(t, h.console, "198.51.100.7", "ck_wrong") }()
	}
	checked, refused, answered := 0, 0, 0
	deadline := time.After(time.Minute)
	for checked+refused < sent {
		select {
		case <-b.arrived:
			checked++
		case code := <-results:
			answered++
			if code != http.StatusTooManyRequests {
				t.Fatalf("an attempt answered %d before any check ended, want 429", code)
			}
			refused++
		case <-deadline:
			t.Fatalf("after a minute: %d attempts checked, %d refused, of %d", checked, refused, sent)
		}
	}
	close(b.release)
	for answered < sent {
		if code := <-results; code != http.StatusUnauthorized {
			t.Errorf("a checked attempt answered %d, want 401", code)
		}
		answered++
	}
	if checked != 10 || refused != sent-10 {
		t.Errorf("%d attempts checked and %d refused, want 10 checked (the limit) and %d refused", checked, refused, sent-10)
	}
}
