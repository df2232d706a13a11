package httpapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type prefsAnswer struct {
	UserID   string `json:"user_id"`
	Settings []struct {
		Type     string `json:"type"`
		Category string `json:"category"`
		Channel  string `json:"channel"`
		Enabled  bool   `json:"enabled"`
	} `json:"settings"`
	Effective []struct {
		Type     string   `json:"type"`
		Channels []string `json:"channels"`
	} `json:"effective"`
}

func (p prefsAnswer) channels(key string) []string {
	for _, e := range p.Effective {
		if e.Type == key {
			return e.Channels
		}
	}
	return nil
}

// TestPreferencesHTTP: a user sets their own preferences with a user
// token, a host reads and sets anyone's and the organisation defaults with
// an API key; bad input is a 422 naming the field with nothing saved; an
// event's page says who a preference kept from its channel.
func TestPreferencesHTTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{Registry: prometheus.NewRegistry()})
		h.loadDirectory()
		tok := h.userToken("1")

		var p prefsAnswer
		h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: map[string]any{"settings": []any{
			map[string]any{"category": "message", "channel": "message", "enabled": false},
			map[string]any{"type": "message:internal", "channel": "email", "enabled": true},
		}}}).want(t, http.StatusOK, &p)
		if p.UserID != "1" || len(p.Settings) != 2 || !slices.Equal(p.channels("message:internal"), []string{"email"}) {
			t.Fatalf("after PUT: %+v", p)
		}
		h.host("GET", "/api/v1/users/1/preferences", nil).want(t, http.StatusOK, &p)
		if len(p.Settings) != 2 {
			t.Fatalf("host's view: %+v", p)
		}
		h.do(req{method: "GET", path: "/api/v1/me/preferences", token: tok}).want(t, http.StatusOK, &p)

		for _, tc := range []struct {
			name, field string
			setting     map[string]any
		}{
			{"unknown type", "settings[1].type", map[string]any{"type": "nope:x", "channel": "email", "enabled": true}},
			{"unknown category", "settings[1].category", map[string]any{"category": "nope", "channel": "email", "enabled": true}},
			{"unknown channel", "settings[1].channel", map[string]any{"type": "message:internal", "channel": "sms", "enabled": true}},
			{"mandatory off", "settings[1].enabled", map[string]any{"type": "message:system", "channel": "alert", "enabled": false}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := map[string]any{"settings": []any{
					map[string]any{"category": "task", "channel": "alert", "enabled": true}, tc.setting}}
				h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: body}).
					wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
				h.host("PUT", "/api/v1/users/1/preferences", body).
					wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
				h.host("PUT", "/api/v1/preferences/defaults", body).
					wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
				var p prefsAnswer
				h.host("GET", "/api/v1/users/1/preferences", nil).want(t, http.StatusOK, &p)
				if len(p.Settings) != 2 {
					t.Errorf("saved anyway: %+v", p.Settings)
				}
				h.host("GET", "/api/v1/preferences/defaults", nil).want(t, http.StatusOK, &p)
				if len(p.Settings) != 0 {
					t.Errorf("defaults saved anyway: %+v", p.Settings)
				}
			})
		}
		h.host("GET", "/api/v1/users/404/preferences", nil).wantError(t, http.StatusNotFound, "not_found", "")

		// A type made mandatory over HTTP refuses to be turned off.
		var ty struct {
			Mandatory bool `json:"mandatory"`
		}
		h.host("PUT", "/api/v1/types/workshop:reminder", map[string]any{"mandatory": true}).want(t, http.StatusOK, &ty)
		if !ty.Mandatory {
			t.Fatal("PUT type mandatory: not mandatory")
		}
		h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: map[string]any{"settings": []any{
			map[string]any{"type": "workshop:reminder", "channel": "message", "enabled": false}}}}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "settings[0].enabled")
		h.host("PUT", "/api/v1/types/workshop:reminder", map[string]any{"mandatory": false}).want(t, http.StatusOK, &ty)

		var d prefsAnswer
		// The organisation turns task e-mails on in the bell too; user 1
		// keeps message:internal off the bell.
		h.host("PUT", "/api/v1/preferences/defaults", map[string]any{"settings": []any{
			map[string]any{"category": "task", "channel": "message", "enabled": true},
		}}).want(t, http.StatusOK, &d)
		if !slices.Equal(d.channels("task:status:paid"), []string{"email", "message"}) || d.UserID != "" {
			t.Fatalf("defaults: %+v", d)
		}
		var res struct {
			EventID int64          `json:"event_id"`
			Reached map[string]int `json:"reached"`
		}
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "hi", "user_ids": []string{"1", "2"}}).
			want(t, http.StatusCreated, &res)
		if res.Reached["message"] != 1 || res.Reached["email"] != 1 {
			t.Errorf("reached %v, want message 1 (user 2), email 1 (user 1)", res.Reached)
		}
		var ev struct {
			Deliveries map[string]int `json:"deliveries"`
			Muted      []struct {
				UserID  string `json:"user_id"`
				Channel string `json:"channel"`
				Reason  string `json:"reason"`
			} `json:"muted"`
		}
		h.host("GET", "/api/v1/events/"+itoa(res.EventID), nil).want(t, http.StatusOK, &ev)
		if len(ev.Muted) != 1 || ev.Muted[0].UserID != "1" || ev.Muted[0].Channel != "message" || ev.Muted[0].Reason != "preference" {
			t.Errorf("muted %+v, want user 1 on message for a preference", ev.Muted)
		}
		if ev.Deliveries["queued"]+ev.Deliveries["sending"]+ev.Deliveries["sent"] != 1 {
			t.Errorf("deliveries %v, want one", ev.Deliveries)
		}
	})
}
