package httpapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

type inboxItem struct {
	ID        int64      `json:"id"`
	UserID    string     `json:"user_id"`
	Channel   string     `json:"channel"`
	Title     string     `json:"title"`
	Key       string     `json:"key"`
	ReadAt    *time.Time `json:"read_at"`
	VisibleAt time.Time  `json:"visible_at"`
}

type inboxPage struct {
	Items []inboxItem `json:"items"`
	Next  string      `json:"next"`
}

type countsJSON struct {
	Unread map[string]int `json:"unread"`
	Total  int            `json:"total"`
}

// The same operations through /me (a user token) and /users/{id} (an API
// key), and what a user token cannot reach.
func TestInbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "bob's", "user_ids": []int{2}}).
			want(t, http.StatusCreated, nil)
		bobTok := h.userToken("2")
		var bobPage inboxPage
		h.do(req{method: "GET", path: "/api/v1/me/notifications", token: bobTok}).want(t, http.StatusOK, &bobPage)
		if len(bobPage.Items) != 1 {
			t.Fatalf("bob's inbox %+v", bobPage)
		}
		bobsNotification := itoa(bobPage.Items[0].ID)

		for _, via := range []struct {
			name   string
			user   string
			prefix string
			token  string
		}{
			{"me", "1", "/api/v1/me", h.userToken("1")},
			{"host", "3", "/api/v1/users/3", h.key},
		} {
			t.Run(via.name, func(t *testing.T) {
				for _, b := range []map[string]any{
					{"key": "message:internal", "title": "m1", "user_ids": []string{via.user, "2"}},
					{"key": "message:internal", "title": "m2", "user_ids": []string{via.user}},
					{"key": "message:system", "title": "alert", "user_ids": []string{via.user}},
					{"key": "message:internal", "title": "banner", "user_ids": []string{via.user}, "force_channel": "header_message"},
					{"key": "message:internal", "title": "m3", "user_ids": []string{via.user}},
				} {
					h.host("POST", "/api/v1/events", b).want(t, http.StatusCreated, nil)
				}
				get := func(path string, v any) *response {
					return h.do(req{method: "GET", path: via.prefix + path, token: via.token}).want(t, http.StatusOK, v)
				}
				post := func(path string, body any, status int, v any) *response {
					return h.do(req{method: "POST", path: via.prefix + path, token: via.token, body: body}).want(t, status, v)
				}
				var all inboxPage
				get("/notifications", &all)
				if len(all.Items) != 5 || all.Items[0].Title != "m3" || all.Items[0].UserID != via.user {
					t.Fatalf("inbox %+v", all)
				}
				var msgs inboxPage
				get("/notifications?channel=message&limit=2", &msgs)
				if len(msgs.Items) != 2 || msgs.Next == "" || msgs.Items[0].Title != "m3" {
					t.Fatalf("first page %+v", msgs)
				}
				var rest inboxPage
				get("/notifications?channel=message&limit=2&cursor="+msgs.Next, &rest)
				if len(rest.Items) != 1 || rest.Items[0].Title != "m1" || rest.Next != "" {
					t.Fatalf("second page %+v", rest)
				}
				var c countsJSON
				get("/counts", &c)
				if c.Unread["message"] != 3 || c.Unread["alert"] != 1 || c.Unread["header_message"] != 1 || c.Total != 5 {
					t.Fatalf("counts %+v", c)
				}

				id := itoa(msgs.Items[0].ID)
				var one inboxItem
				get("/notifications/"+id, &one)
				if one.Title != "m3" || one.ReadAt != nil {
					t.Errorf("one %+v", one)
				}
				post("/notifications/"+id+"/read", nil, http.StatusNoContent, nil)
				get("/notifications/"+id, &one)
				if one.ReadAt == nil {
					t.Error("not read after read")
				}
				var unread inboxPage
				get("/notifications?unread=true&channel=message", &unread)
				if len(unread.Items) != 2 {
					t.Errorf("unread after read: %d, want 2", len(unread.Items))
				}
				post("/notifications/"+id+"/unread", nil, http.StatusNoContent, nil)
				one = inboxItem{}
				get("/notifications/"+id, &one)
				if one.ReadAt != nil {
					t.Error("read after unread")
				}

				var p struct {
					ID        int64     `json:"id"`
					VisibleAt time.Time `json:"visible_at"`
				}
				until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
				post("/notifications/"+id+"/postpone", map[string]string{"until": until.Format(time.RFC3339)}, http.StatusOK, &p)
				if !p.VisibleAt.Equal(until) {
					t.Errorf("postponed until %v, want %v", p.VisibleAt, until)
				}
				get("/counts", &c)
				if c.Unread["message"] != 2 {
					t.Errorf("counts after postpone %+v", c)
				}
				post("/notifications/"+itoa(msgs.Items[1].ID)+"/postpone", nil, http.StatusOK, &p)
				if d := time.Until(p.VisibleAt); d < 6*24*time.Hour || d > 7*24*time.Hour {
					t.Errorf("default postpone until %v", p.VisibleAt)
				}

				var m struct {
					Marked int `json:"marked"`
				}
				post("/notifications/read-all", map[string]string{"channel": "alert"}, http.StatusOK, &m)
				if m.Marked != 1 {
					t.Errorf("read-all alert marked %d", m.Marked)
				}
				post("/notifications/read-all", nil, http.StatusOK, &m)
				if m.Marked != 2 { // m1, banner (m2 and m3 are postponed)
					t.Errorf("read-all marked %d, want 2", m.Marked)
				}
				get("/counts", &c)
				if c.Total != 0 {
					t.Errorf("counts after read-all %+v", c)
				}

				// Errors.
				for _, e := range []struct {
					method, path string
					body         any
					status       int
					code, field  string
				}{
					{"GET", "/notifications/" + bobsNotification, nil, http.StatusNotFound, codeNotFound, ""},
					{"POST", "/notifications/" + bobsNotification + "/read", nil, http.StatusNotFound, codeNotFound, ""},
					{"POST", "/notifications/" + bobsNotification + "/unread", nil, http.StatusNotFound, codeNotFound, ""},
					{"POST", "/notifications/" + bobsNotification + "/postpone", nil, http.StatusNotFound, codeNotFound, ""},
					{"GET", "/notifications/x", nil, http.StatusBadRequest, codeInvalidParam, "nid"},
					{"GET", "/notifications?channel=email", nil, http.StatusUnprocessableEntity, codeInvalidField, "channel"},
					{"GET", "/notifications?unread=maybe", nil, http.StatusBadRequest, codeInvalidParam, "unread"},
					{"GET", "/notifications?limit=500", nil, http.StatusBadRequest, codeInvalidParam, "limit"},
					{"GET", "/notifications?cursor=zzz", nil, http.StatusUnprocessableEntity, codeInvalidField, "cursor"},
					{"POST", "/notifications/" + id + "/postpone", map[string]string{"until": "2000-01-01T00:00:00Z"},
						http.StatusUnprocessableEntity, codeInvalidField, "until"},
					{"POST", "/notifications/" + id + "/postpone", map[string]string{"until": "soon"},
						http.StatusUnprocessableEntity, codeInvalidField, "until"},
					{"POST", "/notifications/read-all", map[string]string{"channel": "email"},
						http.StatusUnprocessableEntity, codeInvalidField, "channel"},
					{"POST", "/notifications/read-all", map[string]string{"chanel": "alert"},
						http.StatusUnprocessableEntity, codeInvalidField, "chanel"},
				} {
					t.Run(fmt.Sprint(e.method, " ", e.path), func(t *testing.T) {
						h.do(req{method: e.method, path: via.prefix + e.path, token: via.token, body: e.body}).
							wantError(t, e.status, e.code, e.field)
					})
				}
			})
		}

		// What users 1 and 3 did left user 2's notifications alone.
		var c countsJSON
		h.do(req{method: "GET", path: "/api/v1/me/counts", token: bobTok}).want(t, http.StatusOK, &c)
		if c.Unread["message"] != 3 {
			t.Errorf("bob's counts %+v", c)
		}
	})
}
