package cli

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cloche/cloche"
)

// enDI's command line takes `--uids 1 2`; every list flag of notify takes
// that form besides repeated flags and commas.
func TestNotifyListFlagForms(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.importDirectory()
	cases := []struct {
		name   string
		args   []string
		groups []string
		users  []string
	}{
		{"spaces", []string{"--uids", "1", "2"}, nil, []string{"1", "2"}},
		{"spaces then a flag", []string{"--uids", "1", "2", "3", "--groups", "manager", "admin"}, []string{"manager", "admin"}, []string{"1", "2", "3"}},
		{"short flag with spaces", []string{"-u", "1", "2", "-g", "admin"}, []string{"admin"}, []string{"1", "2"}},
		{"equals then spaces", []string{"--uids=1", "2", "--group=manager", "admin"}, []string{"manager", "admin"}, []string{"1", "2"}},
		{"mixed", []string{"--uids", "1,2", "3", "-u", "4"}, nil, []string{"1", "2", "3", "4"}},
		{"commas", []string{"--uids", "1,2"}, nil, []string{"1", "2"}},
		{"repeated", []string{"-u", "1", "-u", "2"}, nil, []string{"1", "2"}},
		{"long name with spaces", []string{"--user", "3", "4", "--group", "member", "admin"}, []string{"member", "admin"}, []string{"3", "4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res cloche.Result
			h.json(&res, append([]string{"notify", "-k", "message:internal", "--title", tc.name}, tc.args...)...)
			var ev cloche.Event
			h.json(&ev, "events", "show", fmt.Sprint(res.EventID))
			if !slices.Equal(ev.Recipients.UserIDs, tc.users) || !slices.Equal(ev.Recipients.GroupNames, tc.groups) {
				t.Errorf("recipients %+v, want users %v and groups %v", ev.Recipients, tc.users, tc.groups)
			}
		})
	}

	// Attachments: several after one flag; a comma is part of a file name.
	a := h.file("a.pdf", "%PDF-1.4 a")
	b := h.file("b,c.pdf", "%PDF-1.4 b")
	h.ok("notify", "--title", "two files", "-u", "1", "--attach", a, b)
	h.fails(1, []string{"notify", "--title", "missing", "-u", "1", "--attach", a, h.dir + "/nope.pdf"}, "--attach", "nope.pdf")

	// A word after a flag that takes one value is still an error.
	h.fails(2, []string{"notify", "--title", "T", "extra", "-u", "1"}, "unexpected argument extra")
}
