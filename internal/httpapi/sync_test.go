package httpapi

import (
	"net/http"
	"testing"
)

// PUT /api/v1/directory brings the directory to a snapshot and says what
// changed; a bad row is refused naming it.
func TestSyncDirectoryRoute(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		type counts struct{ Created, Updated, Deactivated, Unchanged int }
		var st struct {
			counts
			Companies counts `json:"companies"`
		}
		h.host("PUT", "/api/v1/directory", map[string]any{
			"companies": []map[string]any{{"id": 10, "name": "Atelier Nord", "email": "nord@example.org"}},
			"users": []map[string]any{
				{"id": 1, "email": "alice@example.org", "name": "Alice", "groups": []string{"manager", "admin"}, "companies": []string{"10"}},
				{"id": 2, "email": "bob@example.org", "name": "Bob", "account_type": "entrepreneur"},
				{"id": 7, "name": "Gus"},
			},
			"groups": []map[string]any{{"name": "member", "members": []any{7}}},
		}).want(t, http.StatusOK, &st)
		if st.counts != (counts{Created: 1, Updated: 1, Deactivated: 1, Unchanged: 1}) ||
			st.Companies != (counts{Deactivated: 1, Unchanged: 1}) {
			t.Errorf("sync answered %+v", st)
		}
		var u struct {
			Active bool     `json:"active"`
			Groups []string `json:"groups"`
		}
		h.host("GET", "/api/v1/users/3", nil).want(t, http.StatusOK, &u)
		if u.Active {
			t.Error("user 3, missing from the snapshot, is still active")
		}
		h.host("GET", "/api/v1/users/7", nil).want(t, http.StatusOK, &u)
		if len(u.Groups) != 1 || u.Groups[0] != "member" {
			t.Errorf("user 7's groups %v", u.Groups)
		}
		h.host("PUT", "/api/v1/directory", map[string]any{"users": []map[string]any{{"id": 1}, {"id": 2, "follower_id": "nobody"}}}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "users[1].follower_id")
		h.host("PUT", "/api/v1/directory", map[string]any{"people": []any{}}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "people")
	})
}
