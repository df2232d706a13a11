package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// TestPrefsQuiet: prefs set takes a time zone, quiet hours (and off) and
// an unread delay, prefs show prints them, types set takes a type's
// unread delay, and bad input exits 2 naming the flag, nothing saved.
func TestPrefsQuiet(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		h.ok("prefs", "set", "1", "--quiet", "21:00-08:00", "--quiet-days", "saturday,sunday",
			"--time-zone", "Europe/Paris", "--email-if-unread", "30m")
		out := h.ok("prefs", "show", "1")
		for _, want := range []string{"time zone: Europe/Paris", "quiet hours: 21:00-08:00 (all day saturday, sunday)", "e-mail: 30m0s if unread"} {
			if !strings.Contains(out, want) {
				t.Errorf("prefs show does not say %q:\n%s", want, out)
			}
		}
		var p cloche.Preferences
		// A new window keeps the days; channel settings and the person's
		// go together.
		h.json(&p, "prefs", "set", "1", "--quiet", "22:00-07:00", "--type", "task:status:valid", "--channel", "message=on")
		if p.PersonPreferences == nil || p.QuietHours == nil || p.QuietHours.Start != "22:00" || len(p.QuietHours.Days) != 2 || len(p.Settings) != 1 {
			t.Fatalf("after a new window: %+v %+v", p.PersonPreferences, p.Settings)
		}

		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"prefs", "set", "1", "--time-zone", "Europe/Pari"}, "--time-zone: unknown time zone \"Europe/Pari\" (did you mean Europe/Paris?)"},
			{[]string{"prefs", "set", "1", "--quiet", "21h-8h"}, "--quiet"},
			{[]string{"prefs", "set", "1", "--quiet", "9pm"}, "--quiet"},
			{[]string{"prefs", "set", "1", "--quiet-days", "someday"}, "--quiet-days"},
			{[]string{"prefs", "set", "1", "--email-if-unread", "soon"}, "--email-if-unread"},
			{[]string{"prefs", "set", "1", "--email-if-unread", "30s"}, "--email-if-unread"},
			{[]string{"prefs", "set", "1", "--email-if-unread", "9000h"}, "--email-if-unread"},
			{[]string{"prefs", "set", "1", "--quiet", "off", "--quiet-days", "sunday"}, "--quiet-days"},
			{[]string{"types", "set", "workshop:reminder", "--email-if-unread", "half an hour"}, "--email-if-unread"},
		} {
			h.fails(2, tc.args, tc.want)
		}
		h.json(&p, "prefs", "show", "1")
		if p.TimeZone != "Europe/Paris" || p.QuietHours == nil || p.QuietHours.Start != "22:00" {
			t.Errorf("bad input saved something: %+v", p.PersonPreferences)
		}

		h.json(&p, "prefs", "set", "1", "--quiet", "off", "--email-if-unread", "default")
		if p.QuietHours != nil || p.EmailIfUnreadMinutes != nil || p.TimeZone != "Europe/Paris" {
			t.Errorf("after --quiet off: %+v", p.PersonPreferences)
		}
		// Quiet all today and tomorrow (whatever the hour): the e-mail is
		// held, and deliveries list says so.
		today := time.Now().In(time.UTC)
		days := strings.ToLower(today.Weekday().String()) + "," + strings.ToLower(today.AddDate(0, 0, 1).Weekday().String())
		h.ok("prefs", "set", "2", "--time-zone", "UTC", "--quiet-days", days)
		h.ok("notify", "-k", "task:status:valid", "--title", "F-1", "--user", "2")
		if out := h.ok("deliveries", "list"); !strings.Contains(out, "queued (held: quiet_hours)") {
			t.Errorf("deliveries list does not say the e-mail is held:\n%s", out)
		}
		var ty cloche.NotificationType
		h.json(&ty, "types", "set", "workshop:reminder", "--email-if-unread", "1h")
		if ty.EmailIfUnreadMinutes != 60 {
			t.Errorf("types set --email-if-unread 1h: %+v", ty)
		}
	})
}
