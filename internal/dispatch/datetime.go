package dispatch

import (
	"fmt"
	"time"
)

// The datetimes a sender may give (due, until) lie in [MinDatetime,
// MaxDatetime): years such as 0000 or 99999 are typing mistakes, and
// both backends store the range alike.
var (
	MinDatetime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDatetime = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckDatetimeRange fails when t is outside [MinDatetime, MaxDatetime);
// the error is a sentence fragment about s, the datetime as given.
func CheckDatetimeRange(s string, t time.Time) error {
	if t.Before(MinDatetime) || !t.Before(MaxDatetime) {
		return fmt.Errorf("%q is out of range (1970 to 9000)", s)
	}
	return nil
}
