package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/auth"
)

// TestHostileStrings sends U+0000, invalid UTF-8 and over-long strings in
// every string the API takes, on both backends: each is refused the same
// way, naming the field (422 in a body, 400 in the path or the query,
// 401 in a token's sub), and nothing is stored.
func TestHostileStrings(t *testing.T) {
	long := strings.Repeat("x", 256)
	notify := func(extra string) string {
		return `{"key": "message:internal", "title": "T", "user_ids": ["1"]` + extra + `}`
	}
	tests := []struct {
		name, method, path string
		body               string
		status             int
		field              string
	}{
		// Bodies.
		{"notify title", "POST", "/api/v1/events", `{"key": "message:internal", "title": "a\u0000b", "user_ids": ["1"]}`, 422, "title"},
		{"notify body", "POST", "/api/v1/events", notify(`, "body": "x\u0000"`), 422, "body"},
		{"notify key", "POST", "/api/v1/events", `{"key": "message:\u0000", "title": "T", "user_ids": ["1"]}`, 422, "key"},
		{"notify group", "POST", "/api/v1/events", notify(`, "group_names": ["ok", "man\u0000ager"]`), 422, "group_names[1]"},
		{"notify user id", "POST", "/api/v1/events", `{"key": "message:internal", "title": "T", "user_ids": ["1", "2\u0000"]}`, 422, "user_ids[1]"},
		{"notify long user id", "POST", "/api/v1/events", `{"key": "message:internal", "title": "T", "user_ids": ["` + long + `"]}`, 422, "user_ids[0]"},
		{"notify company", "POST", "/api/v1/events", notify(`, "company_id": "1\u0000"`), 422, "company_id"},
		{"notify follower", "POST", "/api/v1/events", notify(`, "follower_user_id": "\u00001"`), 422, "follower_user_id"},
		{"notify context type", "POST", "/api/v1/events", notify(`, "context": {"type": "inv\u0000oice", "id": "1"}`), 422, "context.type"},
		{"notify context id", "POST", "/api/v1/events", notify(`, "context": "invoice:4\u00002"`), 422, "context.id"},
		{"notify long context id", "POST", "/api/v1/events", notify(`, "context": {"type": "invoice", "id": "` + long + `"}`), 422, "context.id"},
		{"notify check_url", "POST", "/api/v1/events", notify(`, "check_url": "http://h/\u0000"`), 422, "check_url"},
		{"notify invalid UTF-8", "POST", "/api/v1/events", notify(`, "body": "caf` + "\xe9" + `"`), 422, "body"},
		{"cancel context", "POST", "/api/v1/events/cancel", `{"context": "invoice:\u0000"}`, 422, "context.id"},
		{"cancel key", "POST", "/api/v1/events/cancel", `{"context": "invoice:1", "key": "k\u0000"}`, 422, "key"},
		{"type label", "PUT", "/api/v1/types/t:1", `{"label": "L\u0000", "default_channel": "message"}`, 422, "label"},
		{"type long label", "PUT", "/api/v1/types/t:1", `{"label": "` + strings.Repeat("é", 501) + `", "default_channel": "message"}`, 422, "label"},
		{"user name", "PUT", "/api/v1/users/9", `{"name": "A\u0000"}`, 422, "name"},
		{"user email", "PUT", "/api/v1/users/9", `{"email": "a\u0000@example.org"}`, 422, "email"},
		{"user long email", "PUT", "/api/v1/users/9", `{"email": "` + strings.Repeat("a", 250) + `@b.org"}`, 422, "email"},
		{"user long name", "PUT", "/api/v1/users/9", `{"name": "` + strings.Repeat("n", 501) + `"}`, 422, "name"},
		{"user group", "PUT", "/api/v1/users/9", `{"groups": ["g\u0000"]}`, 422, "groups[0]"},
		{"user company", "PUT", "/api/v1/users/9", `{"companies": ["c\u0000"]}`, 422, "companies[0]"},
		{"user follower", "PUT", "/api/v1/users/9", `{"follower_id": "\u0000"}`, 422, "follower_id"},
		{"user locale", "PUT", "/api/v1/users/9", `{"locale": "fr\u0000"}`, 422, "locale"},
		{"company name", "PUT", "/api/v1/companies/9", `{"name": "C\u0000"}`, 422, "name"},
		{"group members", "PUT", "/api/v1/groups/g/members", `{"user_ids": ["1", "2\u0000"]}`, 422, "user_ids[1]"},
		{"import user id", "POST", "/api/v1/directory/import", `{"users": [{"id": "ok"}, {"id": "a\u0000"}]}`, 422, "users[1].id"},
		{"import long user id", "POST", "/api/v1/directory/import", `{"users": [{"id": "` + long + `"}]}`, 422, "users[0].id"},
		{"import company name", "POST", "/api/v1/directory/import", `{"companies": [{"id": "1", "name": "N\u0000"}]}`, 422, "companies[0].name"},
		{"import invalid UTF-8", "POST", "/api/v1/directory/import", `{"users": [{"id": "1", "name": "` + "\xff" + `"}]}`, 422, "users[0].name"},
		// Path parameters.
		{"path user id", "GET", "/api/v1/users/a%00b", "", 400, "id"},
		{"path user id UTF-8", "GET", "/api/v1/users/%FF", "", 400, "id"},
		{"path long user id", "GET", "/api/v1/users/" + long, "", 400, "id"},
		{"path delete user", "DELETE", "/api/v1/users/%00", "", 400, "id"},
		{"path put user", "PUT", "/api/v1/users/%00", `{}`, 400, "id"},
		{"path type key", "GET", "/api/v1/types/t%00", "", 400, "key"},
		{"path group", "GET", "/api/v1/groups/g%00/members", "", 400, "name"},
		{"path company", "GET", "/api/v1/companies/%00", "", 400, "id"},
		{"path user inbox", "GET", "/api/v1/users/1%00/notifications", "", 400, "id"},
		{"path token", "POST", "/api/v1/users/1%00/token", "", 400, "id"},
		// Query parameters.
		{"query event key", "GET", "/api/v1/events?key=k%00", "", 400, "key"},
		{"query event context", "GET", "/api/v1/events?context=invoice:%00", "", 400, "context"},
		{"query users group", "GET", "/api/v1/users?group=%FF", "", 400, "group"},
		{"query users company", "GET", "/api/v1/users?company_id=%00", "", 400, "company_id"},
		{"query users cursor", "GET", "/api/v1/users?cursor=%00", "", 400, "cursor"},
	}
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, testConfig(dbURL), Options{})
		h.loadDirectory()
		for _, tc := range tests {
			r := h.host(tc.method, tc.path, tc.body)
			code := codeInvalidField
			if tc.status == 400 {
				code = codeInvalidParam
			}
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
				continue
			}
			var e apiErr
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != code || e.Error.Field != tc.field {
				t.Errorf("%s: %s, want code %s on field %q", tc.name, r.body, code, tc.field)
			}
		}
		// Nothing was stored: no event, no user 9, no company 9, no type.
		var evs page[json.RawMessage]
		h.host("GET", "/api/v1/events", nil).want(t, 200, &evs)
		if len(evs.Items) != 0 {
			t.Errorf("%d events stored", len(evs.Items))
		}
		for _, p := range []string{"/api/v1/users/9", "/api/v1/companies/9", "/api/v1/types/t:1"} {
			h.host("GET", p, nil).want(t, 404, nil)
		}

		// A token whose sub holds U+0000 or is too long for an id is
		// refused (401), however well signed. (Its claims are JSON: bytes
		// that are not UTF-8 arrive as U+FFFD.)
		secret, err := h.svc.TokenSecret(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"1\x00", long} {
			tok, _, err := auth.MintUserToken([]byte(secret), sub, time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			h.do(req{method: "GET", path: "/api/v1/me/notifications", token: tok}).wantError(t, 401, codeUnauthorized, "")
		}

		// Lone surrogates become U+FFFD when JSON is decoded: accepted,
		// and stored alike by both backends.
		var res struct {
			EventID int64 `json:"event_id"`
		}
		h.host("POST", "/api/v1/events", `{"key": "message:internal", "title": "a\ud800b", "user_ids": ["1"]}`).want(t, 201, &res)
		var ev struct {
			Title string `json:"title"`
		}
		h.host("GET", "/api/v1/events/"+itoa(res.EventID), nil).want(t, 200, &ev)
		if ev.Title != "a\uFFFDb" {
			t.Errorf("title %q, want %q", ev.Title, "a\uFFFDb")
		}
	})
}

// TestNotifyReport: the answer to a notify names unknown groups and the
// recipients who got nothing, and the event keeps the report.
func TestNotifyReport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, testConfig(dbURL), Options{})
		h.loadDirectory()
		type report struct {
			UnknownUserIDs    []string `json:"unknown_user_ids"`
			UnknownGroupNames []string `json:"unknown_group_names"`
			Unreachable       []struct {
				Kind, ID, Reason string
			} `json:"unreachable"`
		}
		var res struct {
			EventID int64 `json:"event_id"`
			report
		}
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "T",
			"group_names": []string{"ghosts"}, "user_ids": []any{4, "1", "404"}}).want(t, 201, &res)
		check := func(what string, r report) {
			t.Helper()
			if len(r.UnknownGroupNames) != 1 || r.UnknownGroupNames[0] != "ghosts" || len(r.UnknownUserIDs) != 1 ||
				r.UnknownUserIDs[0] != "404" || len(r.Unreachable) != 1 || r.Unreachable[0].Kind != "user" ||
				r.Unreachable[0].ID != "4" || r.Unreachable[0].Reason != "inactive" {
				t.Errorf("%s: %+v", what, r)
			}
		}
		check("answer", res.report)
		var ev struct {
			Report report `json:"report"`
		}
		h.host("GET", "/api/v1/events/"+itoa(res.EventID), nil).want(t, 200, &ev)
		check("event", ev.Report)
	})
}
