package httpapi

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type digestAnswer struct {
	UserID string `json:"user_id"`
	Digest *struct {
		Frequency string `json:"frequency"`
		At        string `json:"at"`
		Day       string `json:"day"`
	} `json:"digest"`
	CategoryDigests []struct {
		Category  string `json:"category"`
		Frequency string `json:"frequency"`
		At        string `json:"at"`
		Day       string `json:"day"`
	} `json:"category_digests"`
}

// TestDigestPreferencesHTTP: the digest fields of the preference
// document are saved by PUT, read by GET, replaced whole (absent:
// immediate), and bad ones are a 422 naming the field, nothing saved.
func TestDigestPreferencesHTTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{Registry: prometheus.NewRegistry()})
		h.loadDirectory()
		tok := h.userToken("1")
		var p digestAnswer
		h.do(req{method: "GET", path: "/api/v1/me/preferences", token: tok}).want(t, http.StatusOK, &p)
		if p.Digest == nil || p.Digest.Frequency != "immediate" || len(p.CategoryDigests) != 0 {
			t.Fatalf("default: %+v", p)
		}
		good := map[string]any{"settings": []any{},
			"digest": map[string]any{"frequency": "weekly", "at": "08:30", "day": "monday"},
			"category_digests": []any{map[string]any{"category": "task", "frequency": "daily", "at": "18:00"},
				map[string]any{"category": "message", "frequency": "immediate"}}}
		h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: good}).want(t, http.StatusOK, &p)
		if p.Digest == nil || p.Digest.Frequency != "weekly" || p.Digest.At != "08:30" || p.Digest.Day != "monday" ||
			len(p.CategoryDigests) != 2 || p.CategoryDigests[0].Category != "message" || p.CategoryDigests[1].At != "18:00" {
			t.Fatalf("after PUT: %+v", p)
		}
		h.host("GET", "/api/v1/users/1/preferences", nil).want(t, http.StatusOK, &p)
		if p.Digest.Frequency != "weekly" {
			t.Fatalf("host's view: %+v", p)
		}
		for _, tc := range []struct {
			name, field string
			body        map[string]any
		}{
			{"unknown frequency", "digest.frequency", map[string]any{"digest": map[string]any{"frequency": "monthly"}}},
			{"bad time", "digest.at", map[string]any{"digest": map[string]any{"frequency": "daily", "at": "25:00"}}},
			{"no time", "digest.at", map[string]any{"digest": map[string]any{"frequency": "daily"}}},
			{"bad day", "digest.day", map[string]any{"digest": map[string]any{"frequency": "weekly", "at": "08:00", "day": "someday"}}},
			{"unknown category", "category_digests[0].category", map[string]any{"category_digests": []any{
				map[string]any{"category": "nope", "frequency": "daily", "at": "08:00"}}}},
			{"category's time", "category_digests[0].at", map[string]any{"category_digests": []any{
				map[string]any{"category": "task", "frequency": "daily", "at": "8h"}}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.body["settings"] = []any{}
				h.do(req{method: "PUT", path: "/api/v1/me/preferences", token: tok, body: tc.body}).
					wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
				var p digestAnswer
				h.host("GET", "/api/v1/users/1/preferences", nil).want(t, http.StatusOK, &p)
				if p.Digest.Frequency != "weekly" || len(p.CategoryDigests) != 2 {
					t.Errorf("saved anyway: %+v", p)
				}
			})
		}
		// PUT replaces the whole document: absent digest fields are the
		// defaults.
		p = digestAnswer{}
		h.host("PUT", "/api/v1/users/1/preferences", map[string]any{"settings": []any{}}).want(t, http.StatusOK, &p)
		if p.Digest.Frequency != "immediate" || len(p.CategoryDigests) != 0 {
			t.Errorf("after PUT without digests: %+v", p)
		}
	})
}
