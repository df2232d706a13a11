package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// A console session opened with an API key ends at the key's revocation,
// by this process or by another one on the same database (the command
// line): the very next request after the revocation is sent to log in, on
// both backends.
func TestRevokedKeyEndsConsoleSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		svc := openService(t, dbURL)
		h := newHarnessOn(t, svc, func(c *ConsoleConfig) {
			c.AdminPassword = ""
			c.KeyChecker = svc
		})
		ctx := context.Background()
		k, key, err := svc.CreateAPIKey(ctx, "operator")
		if err != nil {
			t.Fatal(err)
		}
		_, other, err := svc.CreateAPIKey(ctx, "other operator")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "login with the key", h.login(key), http.StatusSeeOther)
		wantStatus(t, "dashboard", h.get("/console/"), http.StatusOK)
		token := h.token("/console/send")

		second := h.newClient()
		h2 := *h
		h2.client = second
		wantStatus(t, "login with the other key", h2.login(other), http.StatusSeeOther)

		// Another process (the command line) revokes the key: this
		// process's memory of keys is not told.
		cli := openService(t, dbURL)
		if _, err := cli.RevokeAPIKey(ctx, strconv.FormatInt(k.ID, 10)); err != nil {
			t.Fatal(err)
		}
		p := h.get("/console/events")
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/console/login") {
			t.Fatalf("GET after the revocation = %d → %q, want a redirect to the login page", p.status, p.location())
		}
		p = h.post("/console/send", url.Values{"csrf": {token}, "key": {"message:internal"}, "title": {"after revocation"}, "user_ids": {"1"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/console/login") {
			t.Fatalf("POST after the revocation = %d → %q, want a redirect to the login page", p.status, p.location())
		}
		if p := h.get("/console/login"); p.status != http.StatusOK {
			t.Errorf("login page after the revocation = %d, want the form", p.status)
		}
		// The revoked key no longer logs in; the session of another key
		// goes on.
		wantStatus(t, "login with the revoked key", h.login(key), http.StatusUnauthorized)
		wantStatus(t, "the other key's session", h2.get("/console/"), http.StatusOK)
	})
}

// A session that says it is an API key's but names none (a cookie of
// before sessions were bound to their key) is refused; a key store that
// cannot answer makes the page unavailable, never open.
func TestAPIKeySessionMustNameItsKey(t *testing.T) {
	now := time.Now()
	ks := keys{"ck_live_good": 1}
	h := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
		c.AdminPassword = ""
		c.KeyChecker = ks
	})
	u, _ := url.Parse(h.srv.URL + "/console/")
	set := func(s session) {
		v, err := seal(h.console.keys.session, s)
		if err != nil {
			t.Fatal(err)
		}
		h.client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: v, Path: "/console"}})
	}
	exp := now.Add(time.Hour).Unix()
	set(session{Who: "api-key", ID: "a", Expires: exp})
	wantStatus(t, "session without a key id", h.get("/console/"), http.StatusSeeOther)
	set(session{Who: "api-key", ID: "b", Expires: exp, KeyID: 2})
	wantStatus(t, "session of an unknown key", h.get("/console/"), http.StatusSeeOther)
	set(session{Who: "api-key", ID: "c", Expires: exp, KeyID: 1})
	wantStatus(t, "session of an active key", h.get("/console/"), http.StatusOK)

	broken := newHarness(t, testdb.SQLiteURL(t), func(c *ConsoleConfig) {
		c.AdminPassword = ""
		c.KeyChecker = failingChecker{}
		c.SessionSecret = []byte(strings.Repeat("s", 32))
	})
	v, err := seal(broken.console.keys.session, session{Who: "api-key", ID: "d", Expires: exp, KeyID: 1})
	if err != nil {
		t.Fatal(err)
	}
	bu, _ := url.Parse(broken.srv.URL + "/console/")
	broken.client.Jar.SetCookies(bu, []*http.Cookie{{Name: sessionCookie, Value: v, Path: "/console"}})
	wantStatus(t, "key store down", broken.get("/console/"), http.StatusServiceUnavailable)
}

// failingChecker cannot reach its key store.
type failingChecker struct{}

func (failingChecker) CheckAPIKey(context.Context, string) (int64, bool, error) {
	return 0, false, cloche.ErrUnavailable
}

func (failingChecker) APIKeyActive(context.Context, int64) (bool, error) {
	return false, cloche.ErrUnavailable
}
