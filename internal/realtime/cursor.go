package realtime

import (
	"strconv"
	"strings"
	"time"
)

// Cursor is where a client stands in its feed; every event carries one as
// its id. It is opaque to clients.
//
// On SQLite, ids come in commit order: every notification of the user up
// to NotificationID was sent. On PostgreSQL a notification with a smaller
// id may commit later; Time bounds it instead: the creation times of what
// was sent are at most Time, and anything committed after it was created
// after Time minus the resume window (the longest a writing transaction
// takes, with clock skew between processes).
type Cursor struct {
	NotificationID int64
	ChangeID       int64
	Time           time.Time
}

// String is the form sent as an SSE id: "N.C.T", T in microseconds.
func (c Cursor) String() string { return string(c.append(nil)) }

// append appends the String form to b.
func (c Cursor) append(b []byte) []byte {
	b = strconv.AppendInt(b, c.NotificationID, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, c.ChangeID, 10)
	b = append(b, '.')
	return strconv.AppendInt(b, c.Time.UnixMicro(), 10)
}

// ParseCursor reads a cursor sent by String.
func ParseCursor(s string) (Cursor, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 {
		return Cursor{}, false
	}
	var nums [3]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return Cursor{}, false
		}
		nums[i] = n
	}
	return Cursor{NotificationID: nums[0], ChangeID: nums[1], Time: time.UnixMicro(nums[2]).UTC()}, true
}

// advance moves c past a notification, a change or both.
func (c *Cursor) advance(notificationID, changeID int64, created time.Time) {
	c.NotificationID = max(c.NotificationID, notificationID)
	c.ChangeID = max(c.ChangeID, changeID)
	if created.After(c.Time) {
		c.Time = created
	}
}
