package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche"
)

// prefsPerson are the flags of `prefs set` about the person rather than
// one type: time zone, quiet hours, unread delay.
type prefsPerson struct {
	Quiet         string `name:"quiet" placeholder:"HH:MM-HH:MM|off" help:"Quiet hours in the person's time zone, e.g. 21:00-08:00 (across midnight when the end is earlier); e-mail is held until they end. off: none."`
	QuietDays     string `name:"quiet-days" placeholder:"DAY,DAY" help:"Whole days that are quiet all day, e.g. saturday,sunday (with --quiet; alone, keeps the window)."`
	TimeZone      string `name:"time-zone" placeholder:"ZONE" help:"The person's IANA time zone, e.g. Europe/Paris; default: the organisation's (setting time_zone)."`
	EmailIfUnread string `name:"email-if-unread" placeholder:"DURATION|0|default" help:"E-mail a notification also shown in the app only if still unread after this long, e.g. 30m; 0: never wait; default: the type's."`
}

func (p *prefsPerson) any() bool {
	return p.Quiet != "" || p.QuietDays != "" || p.TimeZone != "" || p.EmailIfUnread != ""
}

// options turns the flags into preference options; a malformed flag is
// a usage error. cur is the person's current document (for --quiet-days
// alone).
func (p *prefsPerson) options(cur *cloche.Preferences) ([]cloche.PreferenceOption, error) {
	var opts []cloche.PreferenceOption
	if p.TimeZone != "" {
		opts = append(opts, cloche.WithTimeZone(p.TimeZone))
	}
	switch {
	case p.Quiet == "off":
		if p.QuietDays != "" {
			return nil, usageErrorf("--quiet-days: not with --quiet off")
		}
		opts = append(opts, cloche.WithQuietHours(nil))
	case p.Quiet != "" || p.QuietDays != "":
		var h cloche.QuietHours
		if p.Quiet != "" {
			start, end, ok := strings.Cut(p.Quiet, "-")
			if !ok {
				return nil, usageErrorf("--quiet: %q is not HH:MM-HH:MM (e.g. 21:00-08:00) or off", p.Quiet)
			}
			h.Start, h.End = strings.TrimSpace(start), strings.TrimSpace(end)
		} else if cur.PersonPreferences != nil && cur.QuietHours != nil {
			h = *cur.QuietHours
		} else {
			// Whole days alone: no daily window.
			h.Start, h.End = "00:00", "00:00"
		}
		h.Days = nil
		for d := range strings.SplitSeq(p.QuietDays, ",") {
			if d = strings.TrimSpace(d); d != "" {
				h.Days = append(h.Days, d)
			}
		}
		if p.Quiet != "" && p.QuietDays == "" && cur.PersonPreferences != nil && cur.QuietHours != nil {
			h.Days = cur.QuietHours.Days // a new window keeps the days
		}
		opts = append(opts, cloche.WithQuietHours(&h))
	}
	switch v := strings.TrimSpace(p.EmailIfUnread); v {
	case "":
	case "default":
		opts = append(opts, cloche.WithEmailIfUnread(nil))
	default:
		m, err := parseMinutes(v)
		if err != nil {
			return nil, usageErrorf("--email-if-unread: %v", err)
		}
		opts = append(opts, cloche.WithEmailIfUnread(&m))
	}
	return opts, nil
}

// parseMinutes reads a duration of whole minutes: 30m, 1h30m, 0.
func parseMinutes(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n == 0 {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d%time.Minute != 0 {
		return 0, fmt.Errorf("%q is not a whole number of minutes (e.g. 30m, 2h, 0)", s)
	}
	return int(d / time.Minute), nil
}

// personFlag names the flag of a person field of the document.
func personFlag(field string) string {
	switch {
	case field == "time_zone":
		return "--time-zone"
	case strings.HasPrefix(field, "quiet_hours.days"):
		return "--quiet-days"
	case strings.HasPrefix(field, "quiet_hours"):
		return "--quiet"
	case field == "email_if_unread_minutes":
		return "--email-if-unread"
	}
	return ""
}

// printPerson prints a person's time zone, quiet hours and unread delay.
func (rt *runtime) printPerson(p *cloche.PersonPreferences) {
	quiet := "none"
	if h := p.QuietHours; h != nil {
		quiet = h.Start + "-" + h.End
		if h.Start == h.End {
			quiet = "all day"
		}
		if len(h.Days) > 0 {
			quiet += " (all day " + strings.Join(h.Days, ", ") + ")"
		}
	}
	unread := "the type's"
	if m := p.EmailIfUnreadMinutes; m != nil {
		unread = "at once"
		if *m > 0 {
			unread = (time.Duration(*m) * time.Minute).String() + " if unread"
		}
	}
	rt.printf("time zone: %s", p.TimeZone)
	rt.printf("quiet hours: %s", quiet)
	rt.printf("e-mail: %s", unread)
}
