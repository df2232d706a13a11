package quiet

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Hours are a person's quiet hours as the preference document writes
// them: a daily window from Start to End ("HH:MM", wall clock in the
// person's zone; End before Start crosses midnight; Start equal to End is
// no daily window) and whole Days ("saturday", …), all day long.
type Hours struct {
	Start string   `json:"start"`
	End   string   `json:"end"`
	Days  []string `json:"days,omitempty"`
}

// Window is Hours checked: minutes since midnight and a set of weekdays.
type Window struct {
	Start, End int // minutes since midnight, wall clock
	Days       [7]bool
}

// dayNames are the weekdays as written, indexed by time.Weekday.
var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// ParseClock reads "HH:MM" (00:00 to 23:59) into minutes since midnight;
// field names it in the error.
func ParseClock(field, s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil || len(strings.TrimSpace(s)) != 5 {
		return 0, store.Invalid(field, "%q is not a time of day HH:MM (e.g. 21:00)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ParseDay reads a weekday name ("monday", case ignored).
func ParseDay(field, s string) (time.Weekday, error) {
	i := slices.Index(dayNames[:], strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return 0, store.Invalid(field, "%q is not a day of the week (monday … sunday)", s)
	}
	return time.Weekday(i), nil
}

// Check validates h; field prefixes the fields named in its errors
// ("quiet_hours" gives quiet_hours.start, quiet_hours.days[1]).
func (h *Hours) Check(field string) (Window, error) {
	var w Window
	var err error
	if w.Start, err = ParseClock(field+".start", h.Start); err != nil {
		return w, err
	}
	if w.End, err = ParseClock(field+".end", h.End); err != nil {
		return w, err
	}
	n := 0
	for i, d := range h.Days {
		wd, err := ParseDay(fmt.Sprintf("%s.days[%d]", field, i), d)
		if err != nil {
			return w, err
		}
		if w.Days[wd] {
			return w, store.Invalid(fmt.Sprintf("%s.days[%d]", field, i), "repeats %s", dayNames[wd])
		}
		w.Days[wd] = true
		n++
	}
	switch {
	case n == 7:
		return w, store.Invalid(field+".days", "names every day: no e-mail would ever leave")
	case w.Start == w.End && n == 0:
		return w, store.Invalid(field+".end", "equals start and no days are named: the window is empty (turn quiet hours off instead)")
	}
	return w, nil
}

// Normal is h as stored and shown: trimmed, days lowercase in week order.
func (h *Hours) Normal(w Window) Hours {
	out := Hours{Start: fmt.Sprintf("%02d:%02d", w.Start/60, w.Start%60), End: fmt.Sprintf("%02d:%02d", w.End/60, w.End%60)}
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if w.Days[d] {
			out.Days = append(out.Days, dayNames[d])
		}
	}
	return out
}

// Quiet says whether the wall clock local (already in the person's zone)
// is inside the window.
func (w *Window) Quiet(local time.Time) bool {
	if w.Days[local.Weekday()] {
		return true
	}
	tod := local.Hour()*60 + local.Minute()
	switch {
	case w.Start < w.End:
		return w.Start <= tod && tod < w.End
	case w.Start > w.End: // across midnight
		return tod >= w.Start || tod < w.End
	}
	return false
}

// NextAllowed is the first instant at or after t that is outside the
// window in loc: t itself when t is not quiet. The window can only end
// where the wall clock reads its end or midnight (the end of a whole
// day), or where the zone's offset changes (an end that the clock skips
// on a spring-forward day is over at the jump): it tries each such
// instant of the next eight days in order. On a fall-back day a wall time
// that occurs twice is over at its first occurrence.
func NextAllowed(t time.Time, loc *time.Location, w *Window) time.Time {
	if !w.Quiet(t.In(loc)) {
		return t
	}
	var cands []time.Time
	y, m, d := t.In(loc).Date()
	for k := 0; k <= 8; k++ {
		noon := time.Date(y, m, d+k, 12, 0, 0, 0, loc)
		dy, dm, dd := noon.Date()
		var offsets []int
		for _, at := range []time.Time{noon.Add(-24 * time.Hour), noon, noon.Add(24 * time.Hour)} {
			if _, off := at.Zone(); !slices.Contains(offsets, off) {
				offsets = append(offsets, off)
			}
		}
		for _, mins := range []int{w.End, 0} {
			for _, off := range offsets {
				c := time.Date(dy, dm, dd, mins/60, mins%60, 0, 0, time.FixedZone("", off))
				if l := c.In(loc); l.Day() == dd && l.Hour()*60+l.Minute() == mins {
					cands = append(cands, c)
				}
			}
		}
		if start, end := noon.ZoneBounds(); !end.IsZero() {
			cands = append(cands, start, end)
		}
	}
	slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
	for _, c := range cands {
		if c.After(t) && !w.Quiet(c.In(loc)) {
			return c.UTC()
		}
	}
	// Unreachable for a checked window (never all seven days).
	return t
}
