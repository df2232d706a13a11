package realtime

import (
	"testing"
	"time"
)

// FuzzParseCursor: a Last-Event-ID a client sends is either refused or
// read as a cursor whose String reads back the same; a cursor sent as an
// id reads back as itself.
func FuzzParseCursor(f *testing.F) {
	for _, seed := range []string{"1042.17.1777636800123456", "0.0.0", " 1.2.3 ", "1.2", "1.2.3.4", "-1.2.3", "+1.2.3",
		"9223372036854775807.9223372036854775807.9223372036854775807", "9223372036854775808.0.0", "a.b.c", "", ".."} {
		f.Add(seed, int64(1), int64(2), int64(3))
	}
	f.Fuzz(func(t *testing.T, s string, n, c, micros int64) {
		if cur, ok := ParseCursor(s); ok {
			if cur.NotificationID < 0 || cur.ChangeID < 0 || cur.Time.UnixMicro() < 0 {
				t.Fatalf("%q read as %+v: negative", s, cur)
			}
			again, ok := ParseCursor(cur.String())
			if !ok || again != cur {
				t.Fatalf("%q read as %+v, whose String %q reads as %+v, %v", s, cur, cur.String(), again, ok)
			}
		}
		if n < 0 || c < 0 || micros < 0 {
			return
		}
		sent := Cursor{NotificationID: n, ChangeID: c, Time: time.UnixMicro(micros).UTC()}
		got, ok := ParseCursor(sent.String())
		if !ok || got != sent {
			t.Fatalf("%+v sent as %q reads as %+v, %v", sent, sent.String(), got, ok)
		}
	})
}
