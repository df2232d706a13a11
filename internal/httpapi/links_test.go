package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

type linkItem struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	URL     string `json:"url"`
	Actions []struct {
		Label    string `json:"label"`
		URL      string `json:"url"`
		Callback bool   `json:"callback"`
	} `json:"actions"`
	ReadAt     *time.Time `json:"read_at"`
	ArchivedAt *time.Time `json:"archived_at"`
}

type linkPage struct {
	Items []linkItem `json:"items"`
}

// A notification's url and actions go in with notify and come out in the
// event (callbacks included, for the host) and in the inbox (callbacks
// hidden); bad ones are refused naming the field.
func TestNotifyLinks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		var res struct {
			EventID int64 `json:"event_id"`
		}
		h.host("POST", "/api/v1/events", map[string]any{
			"key": "message:internal", "title": "Facture 42 validée", "user_ids": []string{"1"},
			"url": "https://erp.example.org/invoices/42",
			"actions": []map[string]string{
				{"label": "Voir", "url": "https://erp.example.org/invoices/42"},
				{"label": "Payer", "callback": "https://erp.example.org/hooks/pay/42"},
			},
		}).want(t, http.StatusCreated, &res)
		var ev struct {
			URL     string `json:"url"`
			Actions []struct {
				Label, URL, Callback string
			} `json:"actions"`
		}
		h.host("GET", "/api/v1/events/"+strconv.FormatInt(res.EventID, 10), nil).want(t, http.StatusOK, &ev)
		if ev.URL != "https://erp.example.org/invoices/42" || len(ev.Actions) != 2 || ev.Actions[1].Callback != "https://erp.example.org/hooks/pay/42" {
			t.Fatalf("event %+v", ev)
		}
		var page linkPage
		r := h.do(req{method: "GET", path: "/api/v1/me/notifications", token: h.userToken("1")}).want(t, http.StatusOK, &page)
		if strings.Contains(string(r.body), "hooks/pay") {
			t.Fatalf("the inbox shows the host's callback: %s", r.body)
		}
		it := page.Items[0]
		if it.URL != ev.URL || len(it.Actions) != 2 || it.Actions[0].URL != ev.Actions[0].URL || it.Actions[0].Callback ||
			it.Actions[1].Label != "Payer" || !it.Actions[1].Callback || it.Actions[1].URL != "" {
			t.Fatalf("inbox item %+v", it)
		}

		long := "https://erp.example.org/" + strings.Repeat("a", 2048)
		action := func(a ...map[string]any) map[string]any {
			return map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "actions": a}
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"url not http", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "url": "javascript:alert(1)"}, "url"},
			{"url relative", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "url": "/invoices/42"}, "url"},
			{"url too long", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "url": long}, "url"},
			{"url not a string", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "url": 42}, "url"},
			{"four actions", action(
				map[string]any{"label": "a", "url": "https://x.example"}, map[string]any{"label": "b", "url": "https://x.example"},
				map[string]any{"label": "c", "url": "https://x.example"}, map[string]any{"label": "d", "url": "https://x.example"}), "actions"},
			{"label empty", action(map[string]any{"label": " ", "url": "https://x.example"}), "actions[0].label"},
			{"label too long", action(map[string]any{"label": strings.Repeat("é", 101), "url": "https://x.example"}), "actions[0].label"},
			{"neither url nor callback", action(map[string]any{"label": "a"}), "actions[0]"},
			{"both url and callback", action(map[string]any{"label": "a", "url": "https://x.example", "callback": "https://x.example"}), "actions[0]"},
			{"callback ftp", action(map[string]any{"label": "ok", "url": "https://x.example"}, map[string]any{"label": "a", "callback": "ftp://x.example"}), "actions[1].callback"},
			{"action url too long", action(map[string]any{"label": "a", "url": long}), "actions[0].url"},
			{"unknown action field", action(map[string]any{"label": "a", "url": "https://x.example", "method": "GET"}), "actions[0].method"},
			{"actions not an array", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"}, "actions": "Voir"}, "actions"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.host("POST", "/api/v1/events", tc.body).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, tc.field)
			})
		}
		// Labels of exactly 100 characters and URLs of exactly 2,048 bytes pass.
		h.host("POST", "/api/v1/events", action(map[string]any{"label": strings.Repeat("é", 100),
			"url": long[:2048]})).want(t, http.StatusCreated, nil)
	})
}

// hostCall is one request the host received.
type hostCall struct {
	header http.Header
	body   []byte
}

// fakeHost answers callbacks with status, recording them.
type fakeHost struct {
	mu     sync.Mutex
	calls  []hostCall
	status int
	srv    *httptest.Server
}

func newFakeHost(t *testing.T) *fakeHost {
	f := &fakeHost{status: http.StatusOK}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, hostCall{header: r.Header.Clone(), body: b})
		status := f.status
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message": "Paiement enregistré"}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeHost) last(t *testing.T) hostCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the host was not called")
	}
	return f.calls[len(f.calls)-1]
}

// verifySignature checks a call as a host would, written here from the
// README's description rather than with internal/hostsign.
func verifySignature(t *testing.T, secret string, c hostCall) {
	t.Helper()
	ts := c.header.Get("Cloche-Timestamp")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Minute {
		t.Fatalf("Cloche-Timestamp %q", ts)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(c.body)))
	if want := "v1=" + hex.EncodeToString(m.Sum(nil)); c.header.Get("Cloche-Signature") != want {
		t.Fatalf("Cloche-Signature %q, want %q", c.header.Get("Cloche-Signature"), want)
	}
}

// Pressing a callback action has Cloche POST to the host, signed, and
// answer what the host said.
func TestActionCallback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		host := newFakeHost(t)
		cfg := testConfig(db)
		const secret = "the host and Cloche share this secret, 32+ bytes"
		cfg.Check.SigningSecret = secret
		h := newHarness(t, cfg, Options{})
		h.loadDirectory()
		h.host("POST", "/api/v1/events", map[string]any{
			"key": "message:internal", "title": "Facture 42", "user_ids": []string{"1", "2"},
			"context": map[string]string{"type": "invoice", "id": "42"},
			"actions": []map[string]string{
				{"label": "Voir", "url": "https://erp.example.org/invoices/42"},
				{"label": "Payer", "callback": host.srv.URL + "/hooks/pay/42"},
			},
		}).want(t, http.StatusCreated, nil)
		alice := h.userToken("1")
		var page linkPage
		h.do(req{method: "GET", path: "/api/v1/me/notifications", token: alice}).want(t, http.StatusOK, &page)
		nid := strconv.FormatInt(page.Items[0].ID, 10)

		var out struct {
			OK      bool   `json:"ok"`
			Status  int    `json:"status"`
			Message string `json:"message"`
			Reason  string `json:"reason"`
		}
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/1", token: alice}).want(t, http.StatusOK, &out)
		if !out.OK || out.Status != 200 || out.Message != "Paiement enregistré" {
			t.Fatalf("outcome %+v", out)
		}
		call := host.last(t)
		verifySignature(t, secret, call)
		var payload struct {
			Action struct {
				Index int    `json:"index"`
				Label string `json:"label"`
			} `json:"action"`
			UserID       string `json:"user_id"`
			Notification struct {
				ID int64 `json:"id"`
			} `json:"notification"`
			Event struct {
				ContextID string `json:"context_id"`
			} `json:"event"`
		}
		if err := json.Unmarshal(call.body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload.Action.Index != 1 || payload.Action.Label != "Payer" || payload.UserID != "1" ||
			payload.Notification.ID != page.Items[0].ID || payload.Event.ContextID != "42" {
			t.Fatalf("payload %s", call.body)
		}

		// The host refuses: the outcome says so.
		host.mu.Lock()
		host.status = http.StatusConflict
		host.mu.Unlock()
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/1", token: alice}).want(t, http.StatusOK, &out)
		if out.OK || out.Status != http.StatusConflict || !strings.Contains(out.Reason, "409") {
			t.Fatalf("refused outcome %+v", out)
		}
		// A url action has nothing to run; a missing action, another's
		// notification: not found.
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/0", token: alice}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "action")
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/2", token: alice}).
			wantError(t, http.StatusNotFound, codeNotFound, "")
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/1", token: h.userToken("2")}).
			wantError(t, http.StatusNotFound, codeNotFound, "")
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + nid + "/actions/x", token: alice}).
			wantError(t, http.StatusBadRequest, codeInvalidParam, "n")
		// Through an API key, for any user.
		h.host("POST", "/api/v1/users/1/notifications/"+nid+"/actions/1", nil).want(t, http.StatusOK, nil)
	})
}

// Without check.signing_secret, calls are signed with the user-token secret.
func TestActionCallbackTokenSecret(t *testing.T) {
	host := newFakeHost(t)
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{})
	h.loadDirectory()
	h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "t", "user_ids": []string{"1"},
		"actions": []map[string]string{{"label": "OK", "callback": host.srv.URL}}}).want(t, http.StatusCreated, nil)
	var page linkPage
	h.host("GET", "/api/v1/users/1/notifications", nil).want(t, http.StatusOK, &page)
	h.host("POST", "/api/v1/users/1/notifications/"+strconv.FormatInt(page.Items[0].ID, 10)+"/actions/0", nil).want(t, http.StatusOK, nil)
	secret, err := h.svc.TokenSecret(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifySignature(t, secret, host.last(t))
}

// An archived notification leaves the inbox and the counts, is listed
// with archived=true, comes back when unarchived; open streams hear both.
func TestArchive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarnessOf(t, testConfig(db), func(svc *cloche.Service) Options { return Options{Streamer: svc.Streamer()} })
		if err := h.svc.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.svc.Stop(context.Background()) })
		h.loadDirectory()
		for _, title := range []string{"one", "two"} {
			h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": title, "user_ids": []string{"1"}}).
				want(t, http.StatusCreated, nil)
		}
		alice := h.userToken("1")
		list := func(query string) linkPage {
			t.Helper()
			var p linkPage
			h.do(req{method: "GET", path: "/api/v1/me/notifications" + query, token: alice}).want(t, http.StatusOK, &p)
			return p
		}
		inbox := list("")
		if len(inbox.Items) != 2 || h.counts(t, alice).Total != 2 {
			t.Fatalf("inbox %+v", inbox)
		}
		two := strconv.FormatInt(inbox.Items[0].ID, 10)
		stream := openStream(t, h, alice)
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + two + "/archive", token: alice}).want(t, http.StatusNoContent, nil)
		stream.waitFor(t, "change", `"kind":"archived","notification_id":`+two)
		stream.waitFor(t, "counts", `"message":1`)
		if p := list(""); len(p.Items) != 1 || p.Items[0].Title != "one" {
			t.Fatalf("inbox after archive %+v", p)
		}
		if p := list("?unread=true"); len(p.Items) != 1 {
			t.Fatalf("unread inbox after archive %+v", p)
		}
		if c := h.counts(t, alice); c.Total != 1 || c.Unread["message"] != 1 {
			t.Fatalf("counts after archive %+v", c)
		}
		arch := list("?archived=true")
		if len(arch.Items) != 1 || arch.Items[0].Title != "two" || arch.Items[0].ArchivedAt == nil {
			t.Fatalf("archive %+v", arch)
		}
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + two + "/unarchive", token: alice}).want(t, http.StatusNoContent, nil)
		stream.waitFor(t, "change", `"kind":"unarchived","notification_id":`+two)
		if p := list(""); len(p.Items) != 2 || h.counts(t, alice).Total != 2 || len(list("?archived=true").Items) != 0 {
			t.Fatalf("inbox after unarchive %+v", p)
		}
		h.do(req{method: "POST", path: "/api/v1/me/notifications/" + two + "/archive", token: h.userToken("2")}).
			wantError(t, http.StatusNotFound, codeNotFound, "")
		h.do(req{method: "GET", path: "/api/v1/me/notifications?archived=maybe", token: alice}).
			wantError(t, http.StatusBadRequest, codeInvalidParam, "archived")
		h.host("POST", "/api/v1/users/1/notifications/"+two+"/archive", nil).want(t, http.StatusNoContent, nil)
		if len(list("?archived=true").Items) != 1 {
			t.Fatal("archive through an API key")
		}
	})
}
