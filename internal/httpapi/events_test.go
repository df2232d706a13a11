package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

type notifyResult struct {
	EventID          int64          `json:"event_id"`
	Status           string         `json:"status"`
	Channel          string         `json:"channel"`
	Reached          map[string]int `json:"reached"`
	UnknownUserIDs   []string       `json:"unknown_user_ids"`
	UnknownCompanyID string         `json:"unknown_company_id"`
	Replaced         []int64        `json:"replaced"`
}

type eventJSON struct {
	ID          int64          `json:"id"`
	Key         string         `json:"key"`
	Title       string         `json:"title"`
	Status      string         `json:"status"`
	Channel     string         `json:"channel"`
	ContextType string         `json:"context_type"`
	ContextID   string         `json:"context_id"`
	DueAt       *time.Time     `json:"due_datetime"`
	Counts      map[string]int `json:"counts"`
	Deliveries  map[string]int `json:"deliveries"`
	Recipients  struct {
		UserIDs []string `json:"user_ids"`
	} `json:"recipients"`
}

func TestNotify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()

		t.Run("immediate, ids as numbers and strings", func(t *testing.T) {
			var res notifyResult
			r := h.host("POST", "/api/v1/events", map[string]any{
				"key": "message:internal", "title": "Hello", "body": "Welcome",
				"user_ids": []any{1, "2", 99}, "group_names": []string{"manager"},
			}).want(t, http.StatusCreated, &res)
			if res.Status != "published" || res.Channel != "message" || res.Reached["message"] != 2 ||
				fmt.Sprint(res.UnknownUserIDs) != "[99]" {
				t.Errorf("result %+v", res)
			}
			if loc := r.header.Get("Location"); loc != "/api/v1/events/"+itoa(res.EventID) {
				t.Errorf("Location %q", loc)
			}
		})
		t.Run("scheduled, naive datetime in the server's zone", func(t *testing.T) {
			due := time.Now().In(h.svc.Location()).Add(time.Hour).Truncate(time.Second)
			var res notifyResult
			h.host("POST", "/api/v1/events", map[string]any{
				"key": "activity:reminder", "title": "Appointment", "follower_user_id": 3,
				"due_datetime": due.Format("2006-01-02T15:04:05"), "context": map[string]any{"type": "activity", "id": 77},
			}).want(t, http.StatusCreated, &res)
			if res.Status != "pending" || len(res.Reached) != 0 {
				t.Errorf("result %+v", res)
			}
			var ev eventJSON
			h.host("GET", "/api/v1/events/"+itoa(res.EventID), nil).want(t, http.StatusOK, &ev)
			if ev.DueAt == nil || !ev.DueAt.Equal(due) || ev.ContextType != "activity" || ev.ContextID != "77" {
				t.Errorf("event %+v, want due %v", ev, due)
			}
			// A new event of the same context and key replaces it.
			var res2 notifyResult
			h.host("POST", "/api/v1/events", map[string]any{
				"key": "activity:reminder", "title": "Moved", "user_ids": []string{"3"},
				"due_datetime": due.Add(time.Hour).Format(time.RFC3339), "context": "activity:77",
			}).want(t, http.StatusCreated, &res2)
			if fmt.Sprint(res2.Replaced) != fmt.Sprintf("[%d]", res.EventID) {
				t.Errorf("replaced %v, want [%d]", res2.Replaced, res.EventID)
			}
		})
		t.Run("forced channel", func(t *testing.T) {
			var res notifyResult
			h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "Banner",
				"user_ids": []int{1}, "force_channel": "header_message"}).want(t, http.StatusCreated, &res)
			if res.Channel != "header_message" || res.Reached["header_message"] != 1 {
				t.Errorf("result %+v", res)
			}
		})

		bad := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"not JSON", "{key:", http.StatusBadRequest, codeInvalidJSON, ""},
			{"not an object", `[1, 2]`, http.StatusBadRequest, codeInvalidJSON, ""},
			{"empty", "", http.StatusBadRequest, codeInvalidJSON, ""},
			{"trailing data", `{"key": "message:internal", "title": "x", "user_ids": ["1"]} {}`, http.StatusBadRequest, codeInvalidJSON, ""},
			{"unknown field", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1}, "uids": []int{1}},
				http.StatusUnprocessableEntity, codeInvalidField, "uids"},
			{"bad datetime", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1}, "due_datetime": "tomorrow"},
				http.StatusUnprocessableEntity, codeInvalidField, "due_datetime"},
			{"wrong type", map[string]any{"key": "message:internal", "title": 42, "user_ids": []int{1}},
				http.StatusUnprocessableEntity, codeInvalidField, "title"},
			{"bad id", map[string]any{"key": "message:internal", "title": "x", "user_ids": []any{1.5}},
				http.StatusUnprocessableEntity, codeInvalidField, "user_ids[0]"},
			{"no recipient", map[string]any{"key": "message:internal", "title": "x"},
				http.StatusUnprocessableEntity, codeInvalidField, "recipients"},
			{"unknown key", map[string]any{"key": "nope", "title": "x", "user_ids": []int{1}},
				http.StatusUnprocessableEntity, codeInvalidField, "key"},
			{"unknown channel", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1}, "force_channel": "sms"},
				http.StatusUnprocessableEntity, codeInvalidField, "force_channel"},
			{"until before due", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1},
				"due_datetime": "2099-01-02T00:00:00Z", "until": "2099-01-01T00:00:00Z"},
				http.StatusUnprocessableEntity, codeInvalidField, "until"},
			{"body field too long", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1},
				"body": strings.Repeat("x", 2<<20)}, http.StatusUnprocessableEntity, codeInvalidField, "body"},
			// The limit leaves room for email.max_attachment_size in base64.
			{"too large", map[string]any{"key": "message:internal", "title": "x", "user_ids": []int{1},
				"body": strings.Repeat("x", int(h.srv.notifyMaxBody())+1)}, http.StatusRequestEntityTooLarge, codeTooLarge, ""},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				h.host("POST", "/api/v1/events", tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		t.Run("every wrong field is listed", func(t *testing.T) {
			e := h.host("POST", "/api/v1/events", map[string]any{"key": 1, "title": 2, "user_ids": "x"}).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "key")
			if len(e.Error.Details) != 3 {
				t.Errorf("details %+v, want key, title and user_ids", e.Error.Details)
			}
		})
	})
}

func TestNotifyIdempotencyKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		send := func(key string, body string) *response {
			return h.do(req{method: "POST", path: "/api/v1/events", token: h.key, body: body,
				header: map[string]string{"Idempotency-Key": key}})
		}
		body := `{"key": "message:internal", "title": "Once", "user_ids": [1, 2]}`
		var first, again notifyResult
		r := send("order-42", body).want(t, http.StatusCreated, &first)
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Error("first answer marked replayed")
		}
		// The same request, written differently: same canonical body.
		r = send("order-42", `{"user_ids": ["1", "2"],   "title": "Once", "key": "message:internal"}`).want(t, http.StatusCreated, &again)
		if r.header.Get("Idempotent-Replayed") != "true" || again.EventID != first.EventID || again.Reached["message"] != 2 {
			t.Errorf("retry: %+v (replayed %q), want the first answer %+v", again, r.header.Get("Idempotent-Replayed"), first)
		}
		page, err := h.svc.Inbox(t.Context(), cloche.InboxQuery{UserID: "1", All: true})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("user 1 has %d notifications (%v), want 1", len(page.Items), err)
		}
		send("order-42", `{"key": "message:internal", "title": "Twice", "user_ids": [1, 2]}`).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "Idempotency-Key")
		send(strings.Repeat("k", 300), body).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "Idempotency-Key")

		// Keys are per host application.
		_, other, err := h.svc.CreateAPIKey(t.Context(), "other-host")
		if err != nil {
			t.Fatal(err)
		}
		var third notifyResult
		h.do(req{method: "POST", path: "/api/v1/events", token: other, body: body,
			header: map[string]string{"Idempotency-Key": "order-42"}}).want(t, http.StatusCreated, &third)
		if third.EventID == first.EventID {
			t.Error("another host's key replayed the first host's answer")
		}
	})
}

func TestEventsListShowCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		due := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		var ids []int64
		for _, b := range []map[string]any{
			{"key": "message:internal", "title": "one", "user_ids": []int{1}},
			{"key": "task:status:valid", "title": "mail", "user_ids": []int{1, 2}},
			{"key": "activity:reminder", "title": "later", "user_ids": []int{3}, "due_datetime": due, "context": "activity:5"},
			{"key": "workshop:reminder", "title": "later too", "user_ids": []int{3}, "due_datetime": due, "context": "activity:5"},
			{"key": "message:internal", "title": "five", "user_ids": []int{1}, "due_datetime": due},
		} {
			var res notifyResult
			h.host("POST", "/api/v1/events", b).want(t, http.StatusCreated, &res)
			ids = append(ids, res.EventID)
		}

		list := func(query string) []int64 {
			t.Helper()
			var p struct {
				Items []eventJSON `json:"items"`
				Next  string      `json:"next"`
			}
			h.host("GET", "/api/v1/events"+query, nil).want(t, http.StatusOK, &p)
			var out []int64
			for _, e := range p.Items {
				out = append(out, e.ID)
			}
			return out
		}
		cases := []struct {
			query string
			want  []int64
		}{
			{"", []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
			{"?status=pending", []int64{ids[4], ids[3], ids[2]}},
			{"?key=message:internal", []int64{ids[4], ids[0]}},
			{"?context=activity:5", []int64{ids[3], ids[2]}},
			{"?limit=2", []int64{ids[4], ids[3]}},
			{"?limit=2&cursor=" + itoa(ids[3]), []int64{ids[2], ids[1]}},
		}
		for _, tc := range cases {
			if got := list(tc.query); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("GET /events%s = %v, want %v", tc.query, got, tc.want)
			}
		}
		var p struct {
			Next string `json:"next"`
		}
		h.host("GET", "/api/v1/events?limit=2", nil).want(t, http.StatusOK, &p)
		if p.Next != itoa(ids[3]) {
			t.Errorf("next %q, want %d", p.Next, ids[3])
		}
		h.host("GET", "/api/v1/events?status=lost", nil).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "status")
		h.host("GET", "/api/v1/events?limit=0", nil).wantError(t, http.StatusBadRequest, codeInvalidParam, "limit")
		h.host("GET", "/api/v1/events?cursor=x", nil).wantError(t, http.StatusBadRequest, codeInvalidParam, "cursor")
		h.host("GET", "/api/v1/events?context=nocolon", nil).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "context")

		t.Run("show", func(t *testing.T) {
			var ev eventJSON
			h.host("GET", "/api/v1/events/"+itoa(ids[1]), nil).want(t, http.StatusOK, &ev)
			if ev.Channel != "email" || ev.Counts["email"] != 2 || ev.Deliveries["queued"] != 2 || ev.Deliveries["sent"] != 0 {
				t.Errorf("email event %+v", ev)
			}
			var inApp eventJSON
			h.host("GET", "/api/v1/events/"+itoa(ids[0]), nil).want(t, http.StatusOK, &inApp)
			if inApp.Counts["message"] != 1 || inApp.Deliveries != nil {
				t.Errorf("in-app event %+v", inApp)
			}
			h.host("GET", "/api/v1/events/424242", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
			h.host("GET", "/api/v1/events/abc", nil).wantError(t, http.StatusBadRequest, codeInvalidParam, "id")
		})
		t.Run("cancel", func(t *testing.T) {
			var c struct {
				Cancelled []int64 `json:"cancelled"`
			}
			h.host("POST", "/api/v1/events/"+itoa(ids[4])+"/cancel", nil).want(t, http.StatusOK, &c)
			if fmt.Sprint(c.Cancelled) != fmt.Sprintf("[%d]", ids[4]) {
				t.Errorf("cancelled %v", c.Cancelled)
			}
			// The messages speak of the event, never of the backend.
			for _, tc := range []struct {
				id     int64
				status int
				code   string
				msg    string
			}{
				{ids[4], http.StatusConflict, codeConflict, "event " + itoa(ids[4]) + " is already cancelled"},
				{ids[0], http.StatusConflict, codeConflict, "event " + itoa(ids[0]) + " is already published"},
				{424242, http.StatusNotFound, codeNotFound, "event 424242 not found"},
			} {
				e := h.host("POST", "/api/v1/events/"+itoa(tc.id)+"/cancel", nil).wantError(t, tc.status, tc.code, "")
				if e.Error.Message != tc.msg {
					t.Errorf("cancel %d: message %q, want %q", tc.id, e.Error.Message, tc.msg)
				}
			}
		})
		t.Run("cancel by context", func(t *testing.T) {
			var c struct {
				Cancelled []int64 `json:"cancelled"`
			}
			h.host("POST", "/api/v1/events/cancel", map[string]any{"context": map[string]any{"type": "activity", "id": 5},
				"key": "workshop:reminder"}).want(t, http.StatusOK, &c)
			if fmt.Sprint(c.Cancelled) != fmt.Sprintf("[%d]", ids[3]) {
				t.Errorf("cancelled %v, want [%d]", c.Cancelled, ids[3])
			}
			h.host("POST", "/api/v1/events/cancel", map[string]any{"context": "activity:5"}).want(t, http.StatusOK, &c)
			if fmt.Sprint(c.Cancelled) != fmt.Sprintf("[%d]", ids[2]) {
				t.Errorf("cancelled %v, want [%d]", c.Cancelled, ids[2])
			}
			h.host("POST", "/api/v1/events/cancel", map[string]any{"context": "activity:5"}).want(t, http.StatusOK, &c)
			if c.Cancelled == nil || len(c.Cancelled) != 0 {
				t.Errorf("nothing left to cancel: %v", c.Cancelled)
			}
			h.host("POST", "/api/v1/events/cancel", map[string]any{"key": "x"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "context")
			h.host("POST", "/api/v1/events/cancel", map[string]any{"context": map[string]any{"type": "a"}}).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "context")
			h.host("POST", "/api/v1/events/cancel", map[string]any{"context": map[string]any{"type": "a", "id": 1, "x": 2}}).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "context.x")
		})
	})
}
