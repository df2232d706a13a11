package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

// TestNotifyReportsTheUnreached: notify warns of unknown groups and of
// recipients who got nothing, and `events show` prints the event's report.
func TestNotifyReportsTheUnreached(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		r := h.run("notify", "-k", "message:internal", "--title", "T", "-g", "ghosts", "-u", "4", "-u", "1")
		for _, want := range []string{
			"warning: unknown group names (no user belongs to them): ghosts",
			"warning: not reached: user 4 (inactive)",
		} {
			if r.code != 0 || !strings.Contains(r.stderr, want) {
				t.Errorf("notify: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
			}
		}
		var res cloche.Result
		h.json(&res, "notify", "-k", "message:internal", "--title", "T", "-g", "ghosts", "-u", "4")
		if len(res.UnknownGroupNames) != 1 || len(res.Unreachable) != 1 || res.Unreachable[0].Reason != "inactive" {
			t.Errorf("--json result %+v", res)
		}
		show := h.ok("events", "show", fmt.Sprint(res.EventID))
		if !strings.Contains(show, "report:\n  unknown group names (no user belongs to them): ghosts\n  not reached: user 4 (inactive)") {
			t.Errorf("events show:\n%s", show)
		}
	})
}

// TestEventsShowWithheld: `events show` says who got nothing on a channel
// because of their settings, and why (here a preference and a digest),
// in text and in --json (the API's "muted").
func TestEventsShowWithheld(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		h.ok("prefs", "set", "1", "--type", "task:status:valid", "--channel", "email=off")
		h.ok("prefs", "set", "2", "--digest", "weekly@monday@08:00")
		var res cloche.Result
		h.json(&res, "notify", "-k", "task:status:valid", "--title", "T", "-u", "1", "-u", "2")
		show := h.ok("events", "show", fmt.Sprint(res.EventID))
		for _, want := range []string{"held back by their settings:\n", "  1 on email: preference\n", "  2 on email: held for a digest until "} {
			if !strings.Contains(show, want) {
				t.Errorf("events show lacks %q:\n%s", want, show)
			}
		}
		var ev struct {
			Muted []cloche.PreferenceSkip `json:"muted"`
		}
		h.json(&ev, "events", "show", fmt.Sprint(res.EventID))
		if len(ev.Muted) != 2 || ev.Muted[0].Reason != "preference" || ev.Muted[1].Reason != "digest" || ev.Muted[1].NotBefore == nil {
			t.Errorf("--json muted %+v", ev.Muted)
		}
	})
}
