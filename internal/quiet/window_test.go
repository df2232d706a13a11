package quiet

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone("time_zone", name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestNextAllowed runs the window across midnight, both 2026 DST days of
// Europe/Paris (29 March: 02:00 → 03:00; 25 October: 03:00 → 02:00),
// zones with a 30-minute offset, whole days and start == end.
func TestNextAllowed(t *testing.T) {
	cases := []struct {
		name  string
		zone  string
		hours Hours
		at    string // UTC
		want  string // UTC
	}{
		{"day time, not quiet", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-06-10T10:00:00Z", "2026-06-10T10:00:00Z"},
		{"at the end exactly, not quiet", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-06-10T06:00:00Z", "2026-06-10T06:00:00Z"},
		{"at the start exactly, quiet", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-06-10T19:00:00Z", "2026-06-11T06:00:00Z"},
		{"across midnight, before it", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-06-10T20:30:00Z", "2026-06-11T06:00:00Z"},
		{"across midnight, after it", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-06-11T01:00:00Z", "2026-06-11T06:00:00Z"},
		{"window within a day", "Europe/Paris", Hours{Start: "12:00", End: "14:00"}, "2026-06-10T11:00:00Z", "2026-06-10T12:00:00Z"},
		// Paris, spring forward: the night is an hour shorter, 08:00 is CEST.
		{"Paris spring night", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-03-28T21:00:00Z", "2026-03-29T06:00:00Z"},
		// An end the clock skips (02:30 does not exist) is over at the jump, 03:00 CEST.
		{"Paris spring, end in the gap", "Europe/Paris", Hours{Start: "01:00", End: "02:30"}, "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"},
		{"Paris spring, start in the gap", "Europe/Paris", Hours{Start: "02:30", End: "06:00"}, "2026-03-29T01:10:00Z", "2026-03-29T04:00:00Z"},
		// Paris, fall back: the night is an hour longer, 08:00 is CET.
		{"Paris autumn night", "Europe/Paris", Hours{Start: "21:00", End: "08:00"}, "2026-10-24T20:00:00Z", "2026-10-25T07:00:00Z"},
		// 02:30 occurs twice: over at the first (CEST).
		{"Paris autumn, end repeated", "Europe/Paris", Hours{Start: "00:00", End: "02:30"}, "2026-10-24T23:00:00Z", "2026-10-25T00:30:00Z"},
		{"Kolkata +05:30", "Asia/Kolkata", Hours{Start: "21:00", End: "08:00"}, "2026-06-01T17:30:00Z", "2026-06-02T02:30:00Z"},
		{"Kolkata, not quiet", "Asia/Kolkata", Hours{Start: "21:00", End: "08:00"}, "2026-06-01T05:00:00Z", "2026-06-01T05:00:00Z"},
		// Adelaide leaves daylight saving on 5 April 2026 (+10:30 → +09:30).
		{"Adelaide DST end", "Australia/Adelaide", Hours{Start: "22:00", End: "07:00"}, "2026-04-04T12:30:00Z", "2026-04-04T21:30:00Z"},
		// Adelaide starts it on 4 October 2026 (+09:30 → +10:30).
		{"Adelaide DST start", "Australia/Adelaide", Hours{Start: "22:00", End: "07:00"}, "2026-10-03T13:00:00Z", "2026-10-03T20:30:00Z"},
		{"whole weekend after Friday night", "Europe/Paris", Hours{Start: "21:00", End: "08:00", Days: []string{"saturday", "sunday"}}, "2026-12-04T21:00:00Z", "2026-12-07T07:00:00Z"},
		{"whole Saturday, then Sunday's early hours", "Europe/Paris", Hours{Start: "21:00", End: "08:00", Days: []string{"saturday"}}, "2026-12-04T21:00:00Z", "2026-12-06T07:00:00Z"},
		{"start == end: days only, on the day", "Europe/Paris", Hours{Start: "00:00", End: "00:00", Days: []string{"sunday"}}, "2026-12-06T09:00:00Z", "2026-12-06T23:00:00Z"},
		{"start == end: days only, another day", "Europe/Paris", Hours{Start: "08:00", End: "08:00", Days: []string{"sunday"}}, "2026-12-05T09:00:00Z", "2026-12-05T09:00:00Z"},
		{"whole day across spring forward", "Europe/Paris", Hours{Start: "00:00", End: "00:00", Days: []string{"sunday"}}, "2026-03-29T10:00:00Z", "2026-03-29T22:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := c.hours.Check("quiet_hours")
			if err != nil {
				t.Fatal(err)
			}
			loc := mustZone(t, c.zone)
			got := NextAllowed(utc(c.at), loc, &w)
			if !got.Equal(utc(c.want)) {
				t.Errorf("NextAllowed(%s in %s) = %s (%s), want %s (%s)", c.at, c.zone,
					got.UTC().Format(time.RFC3339), got.In(loc).Format("Mon 15:04 MST"),
					c.want, utc(c.want).In(loc).Format("Mon 15:04 MST"))
			}
			if w.Quiet(got.In(loc)) {
				t.Errorf("%s is still quiet", got)
			}
		})
	}
}

func TestHoursCheck(t *testing.T) {
	cases := []struct {
		hours Hours
		field string // "" when valid
	}{
		{Hours{Start: "21:00", End: "08:00"}, ""},
		{Hours{Start: " 9:00", End: "08:00"}, "quiet_hours.start"},
		{Hours{Start: "25:00", End: "08:00"}, "quiet_hours.start"},
		{Hours{Start: "21:00", End: "8h"}, "quiet_hours.end"},
		{Hours{Start: "21:00", End: "21:00"}, "quiet_hours.end"},
		{Hours{Start: "21:00", End: "08:00", Days: []string{"Saturday", "funday"}}, "quiet_hours.days[1]"},
		{Hours{Start: "21:00", End: "08:00", Days: []string{"sunday", "sunday"}}, "quiet_hours.days[1]"},
		{Hours{Start: "00:00", End: "00:00", Days: dayNames[:]}, "quiet_hours.days"},
	}
	for _, c := range cases {
		_, err := c.hours.Check("quiet_hours")
		var fe *store.FieldError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: %v", c.hours, err)
		case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
			t.Errorf("%+v: error %v, want one on %s", c.hours, err, c.field)
		}
	}
	h := Hours{Start: "21:00", End: "08:00", Days: []string{"Sunday", "saturday"}}
	w, _ := h.Check("q")
	if n := h.Normal(w); strings.Join(n.Days, ",") != "saturday,sunday" {
		t.Errorf("Normal days = %v", n.Days)
	}
}

func TestLoadZone(t *testing.T) {
	cases := []struct{ in, hint string }{
		{"Europe/Pari", "did you mean Europe/Paris?"},
		{"europe/paris", "did you mean Europe/Paris?"},
		{"Asia/Kolkatta", "did you mean Asia/Kolkata?"},
		{"Local", ""},
		{"Nowhere/At all", "an IANA name such as Europe/Paris"},
	}
	for _, c := range cases {
		_, err := LoadZone("time_zone", c.in)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "time_zone" {
			t.Errorf("%q: error %v, want one on time_zone", c.in, err)
			continue
		}
		if c.hint != "" && fe.Hint != c.hint {
			t.Errorf("%q: hint %q, want %q", c.in, fe.Hint, c.hint)
		}
	}
	for _, ok := range []string{"Europe/Paris", "UTC", "Australia/Adelaide"} {
		if _, err := LoadZone("time_zone", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
