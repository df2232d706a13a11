package sqlite

import (
	"database/sql"
	"fmt"
	"time"
)

// Times are stored as text (modernc's _time_format=sqlite): UTC to the
// microsecond (ts), "2006-01-02 15:04:05.999999-07:00". A query that
// selects a time column as is gets it parsed by the driver, which tries
// time.Parse with several layouts per value; the reads that return many
// rows select the text instead (x || '', which no longer has the column's
// declared type) and parse it here.

const storedTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// parseStoredTime reads a stored time, in UTC. The form Cloche writes is
// read by hand (a fraction of time.Parse's cost); any other goes to
// time.Parse with the layouts the driver accepts.
func parseStoredTime(s string) (time.Time, error) {
	if t, ok := parseStoredFast(s); ok {
		return t, nil
	}
	for _, layout := range []string{storedTimeLayout, "2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("stored time %q is not a time", s)
}

// parseStoredFast reads "YYYY-MM-DD hh:mm:ss[.f…][±hh:mm|Z]" ('T' allowed
// for the space); ok is false for anything else, or an out-of-range field.
func parseStoredFast(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for scale := 100000000; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if i > 9 {
				return time.Time{}, false
			}
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := digits(rest[1:3])
		om, okm := digits(rest[4:6])
		if !okh || !okm || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 February
		return time.Time{}, false
	}
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

// digits reads a run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseStoredNull reads a stored time that may be NULL.
func parseStoredNull(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseStoredTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
