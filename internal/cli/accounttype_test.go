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
