package cli

import (
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

// TestPrefs: prefs set changes what it names and keeps the rest, show
// prints the settings and what they amount to, defaults work the same
// way, and bad input exits 2 naming the flag, with nothing saved.
func TestPrefs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		h.ok("prefs", "set", "1", "--type", "task:status:valid", "--channel", "email=off", "--channel", "message=on")
		h.ok("prefs", "set", "1", "--category", "expense", "--channel", "alert=on")
		out := h.ok("prefs", "show", "1")
		for _, want := range []string{"type task:status:valid", "category expense", "alert", "on", "off"} {
			if !strings.Contains(out, want) {
				t.Errorf("prefs show does not mention %q:\n%s", want, out)
			}
		}
		var p cloche.Preferences
		h.json(&p, "prefs", "show", "1")
		if len(p.Settings) != 3 {
			t.Errorf("settings %+v, want 3", p.Settings)
		}
		for _, e := range p.Effective {
			if e.Type == "task:status:valid" && (len(e.Channels) != 1 || e.Channels[0] != cloche.ChannelMessage) {
				t.Errorf("task:status:valid reaches %v, want [message]", e.Channels)
			}
			if e.Type == "expense:status:paid" && len(e.Channels) != 2 {
				t.Errorf("expense:status:paid reaches %v, want email and alert", e.Channels)
			}
		}
		// default removes a setting.
		h.json(&p, "prefs", "set", "1", "--type", "task:status:valid", "--channel", "email=default")
		if len(p.Settings) != 2 {
			t.Errorf("after email=default: %+v", p.Settings)
		}

		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"prefs", "set", "1", "--type", "nope:x", "--channel", "email=on"}, "--type"},
			{[]string{"prefs", "set", "1", "--category", "nope", "--channel", "email=on"}, "--category"},
			{[]string{"prefs", "set", "1", "--type", "task:status:valid", "--channel", "sms=on"}, "--channel"},
			{[]string{"prefs", "set", "1", "--type", "task:status:valid", "--channel", "email=maybe"}, "--channel"},
			{[]string{"prefs", "set", "1", "--type", "message:system", "--channel", "alert=off"}, "mandatory"},
			{[]string{"prefs", "set", "1", "--channel", "email=on"}, "--type"},
			{[]string{"prefs", "set", "1", "--type", "task:status:valid", "--category", "task", "--channel", "email=on"}, "--category"},
			{[]string{"prefs", "defaults", "set", "--type", "message:system", "--channel", "alert=off", "--channel", "email=on"}, "mandatory"},
		} {
			h.fails(2, tc.args, tc.want)
		}
		h.json(&p, "prefs", "show", "1")
		if len(p.Settings) != 2 {
			t.Errorf("bad input saved something: %+v", p.Settings)
		}
		h.fails(1, []string{"prefs", "show", "404"}, "not found")

		// Operators decide which types are mandatory.
		var ty cloche.NotificationType
		h.json(&ty, "types", "set", "workshop:reminder", "--mandatory")
		if !ty.Mandatory {
			t.Errorf("types set --mandatory: %+v", ty)
		}
		h.fails(2, []string{"prefs", "set", "1", "--type", "workshop:reminder", "--channel", "message=off"}, "mandatory")
		h.json(&ty, "types", "set", "workshop:reminder", "--label", "Workshop")
		if !ty.Mandatory {
			t.Errorf("types set without --mandatory cleared it: %+v", ty)
		}
		h.json(&ty, "types", "set", "workshop:reminder", "--no-mandatory")
		if ty.Mandatory {
			t.Errorf("types set --no-mandatory: %+v", ty)
		}
		h.ok("prefs", "set", "1", "--type", "workshop:reminder", "--channel", "message=off")

		h.ok("prefs", "defaults", "set", "--category", "workshop", "--channel", "email=on")
		var d cloche.Preferences
		h.json(&d, "prefs", "defaults", "show")
		if len(d.Settings) != 1 || d.Settings[0].Category != "workshop" || d.UserID != "" {
			t.Errorf("defaults %+v", d)
		}
		if out := h.ok("prefs", "defaults", "show"); !strings.Contains(out, "organisation defaults") {
			t.Errorf("defaults show:\n%s", out)
		}
	})
}

// TestPrefsDigest: prefs set --digest sets the user's e-mail frequency,
// with --category a category's own (default removes it), keeping the
// rest; prefs show prints them; bad values exit 2 naming the flag.
func TestPrefsDigest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		h.ok("prefs", "set", "1", "--type", "task:status:valid", "--channel", "message=on")
		h.ok("prefs", "set", "1", "--digest", "daily@08:00")
		h.ok("prefs", "set", "1", "--digest", "weekly@monday@09:30", "--category", "task")
		h.ok("prefs", "set", "1", "--digest", "hourly", "--category", "expense")
		out := h.ok("prefs", "show", "1")
		for _, want := range []string{"e-mail digest: daily@08:00", "category task: weekly@monday@09:30", "category expense: hourly"} {
			if !strings.Contains(out, want) {
				t.Errorf("prefs show does not mention %q:\n%s", want, out)
			}
		}
		var p cloche.Preferences
		h.json(&p, "prefs", "set", "1", "--digest", "default", "--category", "expense")
		if p.Digest == nil || p.Digest.Frequency != "daily" || len(p.CategoryDigests) != 1 || p.CategoryDigests[0].Category != "task" || len(p.Settings) != 1 {
			t.Errorf("after default: %+v %+v %+v", p.Digest, p.CategoryDigests, p.Settings)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"prefs", "set", "1", "--digest", "daily@25:00"}, "--digest"},
			{[]string{"prefs", "set", "1", "--digest", "weekly@someday@08:00"}, "--digest"},
			{[]string{"prefs", "set", "1", "--digest", "monthly"}, "--digest"},
			{[]string{"prefs", "set", "1", "--digest", "daily@08:00", "--category", "nope"}, "--category"},
			{[]string{"prefs", "set", "1", "--digest", "daily@08:00", "--type", "task:status:valid"}, "--digest"},
			{[]string{"prefs", "set", "1", "--digest", "default"}, "--digest"},
		} {
			h.fails(2, tc.args, tc.want)
		}
		h.json(&p, "prefs", "show", "1")
		if p.Digest.Frequency != "daily" || len(p.CategoryDigests) != 1 {
			t.Errorf("bad input saved something: %+v %+v", p.Digest, p.CategoryDigests)
		}
	})
}
