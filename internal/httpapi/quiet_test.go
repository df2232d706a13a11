package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type personAnswer struct {
	TimeZone   string `json:"time_zone"`
	QuietHours *struct {
		Start string   `json:"start"`
		End   string   `json:"end"`
		Days  []string `json:"days"`
	} `json:"quiet_hours"`
	EmailIfUnreadMinutes *int  `json:"email_if_unread_minutes"`
	Settings             []any `json:"settings"`
}

// TestQuietHoursHTTP: the preference document carries time_zone,
// quiet_hours and email_if_unread_minutes (a PUT replaces them all, an
// absent one is its default); bad input is a 422 naming the field, with
// the nearest zone suggested, and nothing saved; types take
// email_if_unread_minutes; users take a time_zone; an event whose e-mail
// is held says "quiet hours pending" for that recipient.
func TestQuietHoursHTTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{Registry: prometheus.NewRegistry()})
		h.loadDirectory()
		tok := h.userToken("1")

		var p personAnswer
		h.do(req{method: "GET", path: "/api/v1/me/preferences", token: tok}).want(t, http.StatusOK, &p)
		if p.TimeZone != "Europe/Paris" || p.QuietHours != nil || p.EmailIfUnreadMinutes != nil {
			t.Fatalf("defaults: %+v, want the setting's zone and nothing else", p)
		}
		doc := map[string]any{"settings": []any{}, "time_zone": "America/New_York",
			"quiet_hours":             map[string]any{"start": "21:00", "end": "08:00", "days": []string{"Sunday", "saturday"}},
			"email_if_unread_minutes": 30}
		h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: doc}).want(t, http.StatusOK, &p)
		if p.TimeZone != "America/New_York" || p.QuietHours == nil || strings.Join(p.QuietHours.Days, ",") != "saturday,sunday" ||
			p.EmailIfUnreadMinutes == nil || *p.EmailIfUnreadMinutes != 30 {
			t.Fatalf("after PUT: %+v", p)
		}

		for _, tc := range []struct {
			name, field, hint string
			key               string
			value             any
		}{
			{"unknown zone", "time_zone", "did you mean Europe/Paris?", "time_zone", "Europe/Pari"},
			{"bad start", "quiet_hours.start", "", "quiet_hours", map[string]any{"start": "9pm", "end": "08:00"}},
			{"bad end", "quiet_hours.end", "", "quiet_hours", map[string]any{"start": "21:00", "end": "24:00"}},
			{"bad day", "quiet_hours.days[0]", "", "quiet_hours", map[string]any{"start": "21:00", "end": "08:00", "days": []string{"caturday"}}},
			{"empty window", "quiet_hours.end", "", "quiet_hours", map[string]any{"start": "08:00", "end": "08:00"}},
			{"negative delay", "email_if_unread_minutes", "", "email_if_unread_minutes", -5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := map[string]any{"settings": []any{map[string]any{"category": "task", "channel": "alert", "enabled": true}}, tc.key: tc.value}
				e := h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: body}).
					wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
				if tc.hint != "" && !strings.Contains(e.Error.Message, tc.hint) {
					t.Errorf("message %q, want the hint %q", e.Error.Message, tc.hint)
				}
				var p personAnswer
				h.host("GET", "/api/v1/users/1/preferences", nil).want(t, http.StatusOK, &p)
				if p.TimeZone != "America/New_York" || len(p.Settings) != 0 {
					t.Errorf("saved anyway: %+v", p)
				}
			})
		}
		// A PUT without them: back to the defaults.
		h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: map[string]any{"settings": []any{}}}).want(t, http.StatusOK, &p)
		if p.TimeZone != "Europe/Paris" || p.QuietHours != nil || p.EmailIfUnreadMinutes != nil {
			t.Fatalf("after a PUT without them: %+v", p)
		}

		// Types.
		var ty struct {
			EmailIfUnreadMinutes int `json:"email_if_unread_minutes"`
		}
		h.host("PUT", "/api/v1/types/workshop:reminder", map[string]any{"email_if_unread_minutes": 45}).want(t, http.StatusOK, &ty)
		if ty.EmailIfUnreadMinutes != 45 {
			t.Errorf("type: %+v", ty)
		}
		h.host("PUT", "/api/v1/types/workshop:reminder", map[string]any{"email_if_unread_minutes": -1}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "email_if_unread_minutes")

		// Users.
		var u struct {
			TimeZone string `json:"time_zone"`
		}
		h.host("PUT", "/api/v1/users/2", map[string]any{"email": "bob@example.org", "time_zone": "Asia/Kolkata"}).want(t, http.StatusOK, &u)
		if u.TimeZone != "Asia/Kolkata" {
			t.Errorf("user: %+v", u)
		}
		h.host("PUT", "/api/v1/users/2", map[string]any{"email": "bob@example.org", "time_zone": "Asia/Kolkatta"}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "time_zone")

		// Bob is quiet all today and tomorrow (in his zone): his e-mail
		// is held, whatever the hour the test runs at.
		kolkata, _ := time.LoadLocation("Asia/Kolkata")
		today := time.Now().In(kolkata)
		days := []string{strings.ToLower(today.Weekday().String()), strings.ToLower(today.AddDate(0, 0, 1).Weekday().String())}
		h.host("PUT", "/api/v1/users/2/preferences", map[string]any{"settings": []any{}, "time_zone": "Asia/Kolkata",
			"quiet_hours": map[string]any{"start": "00:00", "end": "00:00", "days": days}}).want(t, http.StatusOK, &p)
		var res struct {
			EventID int64 `json:"event_id"`
		}
		h.host("POST", "/api/v1/events", map[string]any{"key": "task:status:valid", "title": "F-1", "user_ids": []string{"1", "2"}}).
			want(t, http.StatusCreated, &res)
		var ev struct {
			Muted []struct {
				UserID    string     `json:"user_id"`
				Channel   string     `json:"channel"`
				Reason    string     `json:"reason"`
				NotBefore *time.Time `json:"not_before"`
			} `json:"muted"`
		}
		h.host("GET", "/api/v1/events/"+itoa(res.EventID), nil).want(t, http.StatusOK, &ev)
		if len(ev.Muted) != 1 || ev.Muted[0].UserID != "2" || ev.Muted[0].Channel != "email" || ev.Muted[0].Reason != "quiet_hours" ||
			ev.Muted[0].NotBefore == nil || !ev.Muted[0].NotBefore.After(time.Now()) {
			t.Errorf("muted %+v, want bob's e-mail held for quiet hours", ev.Muted)
		}
	})
}
