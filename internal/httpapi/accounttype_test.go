package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// account_type on users (PUT /api/v1/users/{id}, the import) and as a
// notify route; bad values name the field.
func TestAccountTypeRoute(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.host("POST", "/api/v1/directory/import", map[string]any{"users": []map[string]any{
			{"id": "e", "account_type": "entrepreneur"}, {"id": "h", "account_type": "hybride"},
		}}).want(t, http.StatusOK, nil)
		var u struct {
			AccountType string `json:"account_type"`
		}
		h.host("PUT", "/api/v1/users/s", map[string]any{"account_type": "equipe_appui"}).want(t, http.StatusOK, &u)
		if u.AccountType != "equipe_appui" {
			t.Errorf("PUT user answered account type %q", u.AccountType)
		}
		h.host("GET", "/api/v1/users/h", nil).want(t, http.StatusOK, &u)
		if u.AccountType != "hybride" {
			t.Errorf("GET user answered account type %q", u.AccountType)
		}
		for typ, want := range map[string]int{"entrepreneur": 2, "equipe_appui": 2, "all": 3} {
			var res notifyResult
			h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "T", "account_type": typ}).
				want(t, http.StatusCreated, &res)
			if res.Reached["message"] != want {
				t.Errorf("%s reached %v, want %d", typ, res.Reached, want)
			}
		}
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "T", "account_type": 3}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "account_type")
		h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "T", "account_type": strings.Repeat("x", 300)}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "account_type")
		h.host("PUT", "/api/v1/users/z", map[string]any{"account_type": "all"}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "account_type")
	})
}
