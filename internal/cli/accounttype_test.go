package cli

import (
	"strings"
	"testing"
)

// cloche notify --account-type reaches the people of that account type,
// and directory show prints a person's.
func TestNotifyAccountType(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.ok("directory", "import", h.file("acct.json", `{"users": [
		{"id": "e", "account_type": "entrepreneur"}, {"id": "h", "account_type": "hybride"},
		{"id": "s", "account_type": "equipe_appui"}]}`))
	var res struct {
		Reached map[string]int `json:"reached"`
	}
	h.json(&res, "notify", "-k", "message:internal", "--title", "AG", "--account-type", "entrepreneur")
	if res.Reached["message"] != 2 {
		t.Errorf("reached %v, want 2 in the app", res.Reached)
	}
	if out := h.ok("directory", "show", "h"); !strings.Contains(out, "hybride") {
		t.Errorf("directory show h:\n%s", out)
	}
	h.fails(1, []string{"notify", "-k", "message:internal", "--title", "AG", "--account-type", strings.Repeat("x", 300)}, "--account-type")
}

// cloche directory sync FILE brings the directory to the file and says
// what changed; the same file again changes nothing.
func TestDirectorySync(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.importDirectory()
	snap := h.file("snap.json", `{"companies": [{"id": 10, "name": "Atelier Nord"}],
		"users": [{"id": 1, "name": "Alice", "groups": ["manager"], "companies": [10]}, {"id": 9, "name": "Ivy"}],
		"groups": [{"name": "admin", "members": [9]}]}`)
	var st struct {
		Created, Updated, Deactivated, Unchanged int
		Companies                                struct{ Created, Updated, Deactivated, Unchanged int }
	}
	h.json(&st, "directory", "sync", snap)
	if st.Created != 1 || st.Deactivated == 0 || st.Companies.Deactivated != 1 {
		t.Errorf("first sync: %+v", st)
	}
	if out := h.ok("directory", "sync", snap); !strings.Contains(out, "people: 0 created, 0 updated, 0 deactivated, 2 unchanged") {
		t.Errorf("second sync printed %q", out)
	}
	h.fails(1, []string{"directory", "sync", h.file("bad.json", `{"users": [{"id": 1, "follower_id": "zz"}]}`)}, "users[0].follower_id")
}
