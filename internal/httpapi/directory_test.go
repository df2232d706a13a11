package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

type userJSON struct {
	ID         string   `json:"id"`
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	Locale     string   `json:"locale"`
	Active     bool     `json:"active"`
	Groups     []string `json:"groups"`
	Companies  []string `json:"companies"`
	FollowerID string   `json:"follower_id"`
}

type userPage struct {
	Items []userJSON `json:"items"`
	Next  string     `json:"next"`
}

func userIDs(p userPage) string {
	var ids []string
	for _, u := range p.Items {
		ids = append(ids, u.ID)
	}
	return strings.Join(ids, ",")
}

func TestDirectory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})

		t.Run("import", func(t *testing.T) {
			var stats struct {
				Companies int `json:"companies"`
				Users     int `json:"users"`
			}
			h.host("POST", "/api/v1/directory/import", directoryJSON).want(t, http.StatusOK, &stats)
			if stats.Companies != 2 || stats.Users != 4 {
				t.Errorf("stats %+v", stats)
			}
			e := h.host("POST", "/api/v1/directory/import", `{"users": [{"id": 9, "email": "nope"}]}`).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "users[0].email")
			if !strings.Contains(e.Error.Message, "e-mail") {
				t.Errorf("message %q", e.Error.Message)
			}
			h.host("POST", "/api/v1/directory/import", `{"people": []}`).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "people")
			h.host("GET", "/api/v1/users/9", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		})
		t.Run("users", func(t *testing.T) {
			var u userJSON
			h.host("PUT", "/api/v1/users/5", map[string]any{"email": "erin@example.org", "name": "Erin",
				"groups": []string{"member"}, "companies": []int{20}, "follower_id": 2}).want(t, http.StatusOK, &u)
			if u.ID != "5" || u.Locale != "fr" || !u.Active || u.FollowerID != "2" || strings.Join(u.Companies, ",") != "20" {
				t.Errorf("put user %+v", u)
			}
			h.host("GET", "/api/v1/users/5", nil).want(t, http.StatusOK, &u)
			if u.Name != "Erin" {
				t.Errorf("get user %+v", u)
			}
			h.host("PUT", "/api/v1/users/5", map[string]any{"id": 6, "name": "x"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "id")
			h.host("PUT", "/api/v1/users/5", map[string]any{"locale": "de"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "locale")
			h.host("PUT", "/api/v1/users/5", map[string]any{"companies": []string{"404"}}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "companies")
			h.host("PUT", "/api/v1/users/5", map[string]any{"follower_id": "404"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "follower_id")
			h.host("PUT", "/api/v1/users/5", map[string]any{"groups": "member"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "groups")

			var p userPage
			h.host("GET", "/api/v1/users?limit=3", nil).want(t, http.StatusOK, &p)
			if userIDs(p) != "1,2,3" || p.Next != "3" {
				t.Errorf("first page %+v", p)
			}
			p = userPage{}
			h.host("GET", "/api/v1/users?limit=3&cursor=3", nil).want(t, http.StatusOK, &p)
			if userIDs(p) != "4,5" || p.Next != "" {
				t.Errorf("second page %+v", p)
			}
			h.host("GET", "/api/v1/users?company_id=20", nil).want(t, http.StatusOK, &p)
			if userIDs(p) != "2,3,5" {
				t.Errorf("company 20: %s", userIDs(p))
			}
			h.host("GET", "/api/v1/users?group=admin", nil).want(t, http.StatusOK, &p)
			if userIDs(p) != "1,4" {
				t.Errorf("admins: %s", userIDs(p))
			}

			h.host("DELETE", "/api/v1/users/5", nil).want(t, http.StatusNoContent, nil)
			h.host("DELETE", "/api/v1/users/5", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
			h.host("GET", "/api/v1/users/5", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		})
		t.Run("groups", func(t *testing.T) {
			var gs struct {
				Items []struct {
					Name    string `json:"name"`
					Members int    `json:"members"`
				} `json:"items"`
			}
			h.host("GET", "/api/v1/groups", nil).want(t, http.StatusOK, &gs)
			if len(gs.Items) != 3 || gs.Items[0].Name != "admin" || gs.Items[0].Members != 2 {
				t.Errorf("groups %+v", gs)
			}
			var p userPage
			h.host("GET", "/api/v1/groups/manager/members", nil).want(t, http.StatusOK, &p)
			if userIDs(p) != "1,2" {
				t.Errorf("managers %s", userIDs(p))
			}
			h.host("PUT", "/api/v1/groups/night/members", map[string]any{"user_ids": []any{3, "4"}}).want(t, http.StatusOK, &p)
			if userIDs(p) != "3,4" {
				t.Errorf("night shift %s", userIDs(p))
			}
			h.host("PUT", "/api/v1/groups/night/members", map[string]any{"user_ids": []any{3, "ghost"}}).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "user_ids")
			h.host("PUT", "/api/v1/groups/night/members", map[string]any{}).
				wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "user_ids")
			var removed struct {
				Removed int `json:"removed"`
			}
			h.host("DELETE", "/api/v1/groups/night", nil).want(t, http.StatusOK, &removed)
			if removed.Removed != 2 {
				t.Errorf("removed %d", removed.Removed)
			}
			h.host("DELETE", "/api/v1/groups/night", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
			h.host("GET", "/api/v1/groups/night/members", nil).want(t, http.StatusOK, &p)
			if len(p.Items) != 0 {
				t.Errorf("members of a deleted group %+v", p)
			}
		})
		t.Run("companies", func(t *testing.T) {
			var c struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Email  string `json:"email"`
				Active bool   `json:"active"`
			}
			h.host("PUT", "/api/v1/companies/30", map[string]any{"name": "Est", "email": "est@example.org", "active": false}).
				want(t, http.StatusOK, &c)
			if c.ID != "30" || c.Active {
				t.Errorf("put company %+v", c)
			}
			h.host("GET", "/api/v1/companies/30", nil).want(t, http.StatusOK, &c)
			if c.Name != "Est" {
				t.Errorf("get company %+v", c)
			}
			h.host("PUT", "/api/v1/companies/30", map[string]any{"email": "x@example.org"}).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "name")
			h.host("DELETE", "/api/v1/companies/30", nil).want(t, http.StatusNoContent, nil)
			h.host("GET", "/api/v1/companies/30", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
			h.host("DELETE", "/api/v1/companies/30", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		})
	})
}

func TestImportSizeLimit(t *testing.T) {
	cfg := testConfig("sqlite:" + t.TempDir() + "/c.db")
	cfg.HTTP.MaxBodyBytes, cfg.HTTP.MaxImportBytes = 2048, 8192
	h := newHarness(t, cfg, Options{})
	users := make([]string, 0, 100)
	for i := range 100 {
		users = append(users, `{"id": `+itoa(int64(i+1))+`}`)
	}
	small := `{"users": [` + strings.Join(users[:40], ",") + `]}` // over max_body_bytes, under max_import_bytes
	h.host("POST", "/api/v1/directory/import", small).want(t, http.StatusOK, nil)
	big := `{"users": [` + strings.Join(users, ",") + `], "companies": [` + strings.Repeat(`{"id": 1, "name": "x"},`, 1000) + `{"id": 2, "name": "y"}]}`
	h.host("POST", "/api/v1/directory/import", big).wantError(t, http.StatusRequestEntityTooLarge, codeTooLarge, "")
	h.host("PUT", "/api/v1/users/1", `{"name": "`+strings.Repeat("x", 3000)+`"}`).wantError(t, http.StatusRequestEntityTooLarge, codeTooLarge, "")
}
