package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// An operation of the OpenAPI document: who may call it and what it may
// answer.
type documentedOp struct {
	method, path string
	security     string // "public", "apiKey" or "userToken"
	statuses     []int
}

// documentedOps reads every operation of openapi.json.
func documentedOps(t *testing.T) map[string]documentedOp {
	t.Helper()
	type op struct {
		Security  *[]map[string][]string     `json:"security"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	var doc struct {
		Security []map[string][]string                 `json:"security"`
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]documentedOp{}
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			if method == "parameters" {
				continue
			}
			var o op
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			sec := doc.Security
			if o.Security != nil {
				sec = *o.Security
			}
			d := documentedOp{method: strings.ToUpper(method), path: path, security: "public"}
			for _, req := range sec {
				for name := range req {
					switch name {
					case "apiKey":
						d.security = "apiKey"
					case "userToken", "streamToken":
						d.security = "userToken"
					default:
						t.Errorf("%s %s: unknown security scheme %q", method, path, name)
					}
				}
			}
			for code := range o.Responses {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s %s: response %q is not a status", method, path, code)
				}
				d.statuses = append(d.statuses, n)
			}
			ops[d.method+" "+path] = d
		}
	}
	return ops
}

// documentedAccess is the security a route's access is documented with.
var documentedAccess = map[access]string{public: "public", hostKey: "apiKey", userOnly: "userToken", userSSE: "userToken"}

// The isolation matrix: every operation of the OpenAPI document, called
// with no credential, an API key, the user token of another user than the
// one the path names, a revoked API key and an expired user token, answers
// the status its security calls for, and that status is documented. A
// route the server registers that the document lacks (or the reverse), or
// whose access differs from its documented security, fails the test: no
// route ships without being in the matrix.
func TestIsolationMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{Registry: prometheus.NewRegistry(), Streamer: &testStreamer{}})
		h.loadDirectory()
		ops := documentedOps(t)

		// The document and the router agree, route by route.
		registered := map[string]access{"GET /metrics": public}
		for _, rt := range h.srv.routes {
			registered[rt.pattern()] = rt.access
		}
		for p, a := range registered {
			d, ok := ops[p]
			if !ok {
				t.Errorf("route %s is served but not in openapi.json: document it (its security and statuses)", p)
				continue
			}
			if d.security != documentedAccess[a] {
				t.Errorf("route %s: openapi.json says security %s, the router %s", p, d.security, documentedAccess[a])
			}
		}
		for p := range ops {
			if _, ok := registered[p]; !ok {
				t.Errorf("%s is in openapi.json but not served", p)
			}
		}

		// Objects of user 1: the paths name them; user 2's token asks.
		var ev struct {
			EventID int64 `json:"event_id"`
		}
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "of user 1", "user_ids": []int{1}}).
			want(t, http.StatusCreated, &ev)
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		h.host("GET", "/api/v1/users/1/notifications", nil).want(t, http.StatusOK, &page)
		if len(page.Items) != 1 {
			t.Fatalf("user 1 has %d notifications, want 1", len(page.Items))
		}
		params := strings.NewReplacer("{id}", "1", "{nid}", strconv.FormatInt(page.Items[0].ID, 10),
			"{key}", "message:internal", "{name}", "manager", "{n}", "0")
		eventParams := strings.NewReplacer("{id}", strconv.FormatInt(ev.EventID, 10))

		secret, err := h.svc.TokenSecret(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "1", "iat": time.Now().Add(-3 * time.Hour).Unix(), "exp": time.Now().Add(-2 * time.Hour).Unix(),
		}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		k, revoked, err := h.svc.CreateAPIKey(t.Context(), "revoked")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.RevokeAPIKey(t.Context(), strconv.FormatInt(k.ID, 10)); err != nil {
			t.Fatal(err)
		}
		creds := []struct{ name, token string }{
			{"no credential", ""},
			{"revoked API key", revoked},
			{"expired user token", expired},
			{"user token of another user", h.userToken("2")},
			{"API key", h.key}, // last: it may change the objects
		}

		// expect is the status of op for a credential, and whether it is
		// exact (else: any documented status but 401 and 403).
		expect := func(op documentedOp, cred string) (int, bool) {
			switch {
			case op.security == "public":
				return 0, false
			case cred == "no credential" || cred == "revoked API key" || cred == "expired user token":
				return http.StatusUnauthorized, true
			case op.security == "apiKey" && cred == "API key", op.security == "userToken" && cred == "user token of another user":
				if strings.Contains(op.path, "{nid}") {
					// User 1's notification, asked for as user 2's (by
					// the path's {id}, or by the token): not theirs.
					return http.StatusNotFound, true
				}
				return 0, false
			}
			return http.StatusForbidden, true // a valid credential of the wrong kind
		}

		keys := make([]string, 0, len(ops))
		for p := range ops {
			keys = append(keys, p)
		}
		slices.Sort(keys)
		covered := 0
		for _, cred := range creds {
			for _, p := range keys {
				op := ops[p]
				path := op.path
				switch {
				case strings.HasPrefix(path, "/api/v1/events/"):
					path = eventParams.Replace(path)
				case strings.HasPrefix(path, "/api/v1/users/{id}/notifications/{nid}"):
					path = strings.Replace(path, "{id}", "2", 1) // user 1's notification under user 2
				}
				path = params.Replace(path)
				status, header, code := h.probe(op.method, path, cred.token)
				want, exact := expect(op, cred.name)
				what := cred.name + ": " + op.method + " " + path
				switch {
				case exact && status != want:
					t.Errorf("%s = %d, want %d", what, status, want)
				case !exact && (status == http.StatusUnauthorized || status == http.StatusForbidden):
					t.Errorf("%s = %d: a good credential refused", what, status)
				case status >= 500:
					t.Errorf("%s = %d", what, status)
				}
				if !slices.Contains(op.statuses, status) {
					t.Errorf("%s answered %d, which openapi.json does not document for it (%v)", what, status, op.statuses)
				}
				switch {
				case status == http.StatusUnauthorized && (code != codeUnauthorized || !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer")):
					t.Errorf("%s: 401 with code %q and WWW-Authenticate %q", what, code, header.Get("WWW-Authenticate"))
				case status == http.StatusForbidden && code != codeForbidden:
					t.Errorf("%s: 403 with code %q", what, code)
				}
				covered++
			}
		}
		if want := len(ops) * len(creds); covered != want || len(ops) < 40 {
			t.Errorf("%d cells for %d operations, want %d", covered, len(ops), want)
		}
	})
}

// probe sends one request of the matrix (a JSON body "{}" for POST and
// PUT) and returns its status, headers and error code (if any); an event
// stream is closed at its headers.
func (h *harness) probe(method, path, token string) (int, http.Header, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body io.Reader
	if method == "POST" || method == "PUT" {
		body = strings.NewReader("{}")
	}
	r, err := http.NewRequestWithContext(ctx, method, h.url+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp.StatusCode, resp.Header, ""
	}
	var e apiErr
	if b, err := io.ReadAll(resp.Body); err == nil && resp.Header.Get("Content-Type") == "application/json" {
		_ = json.Unmarshal(b, &e)
	}
	return resp.StatusCode, resp.Header, e.Error.Code
}
