package realtime

import (
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	c := Cursor{NotificationID: 1042, ChangeID: 17, Time: time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)}
	if s := c.String(); s != "1042.17.1777636800123456" {
		t.Errorf("String() = %q", s)
	}
	got, ok := ParseCursor(" " + c.String() + " ")
	if !ok || got.NotificationID != c.NotificationID || got.ChangeID != c.ChangeID || !got.Time.Equal(c.Time) {
		t.Errorf("ParseCursor(String()) = %+v, %v; want %+v", got, ok, c)
	}
	for _, bad := range []string{"", "1.2", "1.2.3.4", "a.b.c", "1.-2.3", "1..3", "1.2.99999999999999999999"} {
		if _, ok := ParseCursor(bad); ok {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
	c.advance(1000, 20, c.Time.Add(-time.Second))
	if c.NotificationID != 1042 || c.ChangeID != 20 || !c.Time.Equal(time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)) {
		t.Errorf("advance went back: %+v", c)
	}
}
