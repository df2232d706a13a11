package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/dispatch"
)

// Layouts accepted for a datetime without an offset; they are read in the
// configured time zone. A date alone means midnight.
var localLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// datetimeHelp describes the accepted forms, for help texts and errors.
const datetimeHelp = `RFC 3339 ("2023-12-05T12:00:00+01:00"), or "2023-12-05 12:00:00", "2023-12-05 12:00" or "2023-12-05" in the configured time zone`

// parseDatetime reads s as RFC 3339 (with an offset), or as one of the
// local layouts in loc, between 1970 and 9000.
func parseDatetime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, ok := parseDatetimeForms(s, loc)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a datetime: use %s", s, datetimeHelp)
	}
	if err := dispatch.CheckDatetimeRange(s, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

func parseDatetimeForms(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// optionalDatetime parses the value of flag when it is set, and reports a
// malformed one as a usage error.
func optionalDatetime(flag, s string, loc *time.Location) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseDatetime(s, loc)
	if err != nil {
		return nil, usageErrorf("%s: %v", flag, err)
	}
	return &t, nil
}

// timeLayout is how times are shown: in the configured zone, with its offset.
const timeLayout = "2006-01-02 15:04:05 -07:00"

// formatTime shows t in loc; the zero time and nil show as "-".
func formatTime(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.In(loc).Format(timeLayout)
}
