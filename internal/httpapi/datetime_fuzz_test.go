package httpapi

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/dispatch"
)

// FuzzParseDatetime: a datetime the API reads is in UTC, between 1970 and
// 9000, and reads back the same from its RFC 3339 form; anything else is
// an error quoting the input.
func FuzzParseDatetime(f *testing.F) {
	for _, seed := range []string{"2026-12-05T09:00:00+01:00", "2026-12-05 09:00:00", "2026-12-05T09:00", "2026-12-05 09:00:00.5",
		"0000-01-01T00:00:00Z", "9000-01-01T00:00:00Z", "8999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00+00:01",
		"2026-03-29T02:30:00", "x", ""} {
		f.Add(seed)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDatetime(s, paris)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(strings.TrimSpace(s))) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if got.Location() != time.UTC || got.Before(dispatch.MinDatetime) || !got.Before(dispatch.MaxDatetime) {
			t.Fatalf("%q read as %v: not UTC, or out of range", s, got)
		}
		again, err := parseDatetime(got.Format(time.RFC3339Nano), paris)
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q read as %v, whose RFC 3339 form reads as %v, %v", s, got, again, err)
		}
	})
}
