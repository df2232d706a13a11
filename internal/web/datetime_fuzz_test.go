package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/dispatch"
)

// FuzzParseLocal: the send form's datetimes are empty (none), or between
// 1970 and 9000 and read back the same from their RFC 3339 form; anything
// else is an error quoting the input.
func FuzzParseLocal(f *testing.F) {
	for _, seed := range []string{"2026-12-05T09:00", "2026-12-05 09:00:00", "2026-12-05", "2026-12-05T09:00:00+01:00",
		"0000-01-01T00:00", "9999-12-31", "  ", "x"} {
		f.Add(seed)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseLocal(s, paris)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(strings.TrimSpace(s))) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if got == nil {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%q read as no datetime", s)
			}
			return
		}
		if got.Before(dispatch.MinDatetime) || !got.Before(dispatch.MaxDatetime) {
			t.Fatalf("%q read as %v, out of range", s, *got)
		}
		again, err := parseLocal(got.Format(time.RFC3339), paris)
		if err != nil || !again.Truncate(time.Second).Equal(got.Truncate(time.Second)) {
			t.Fatalf("%q read as %v, whose RFC 3339 form reads as %v, %v", s, *got, again, err)
		}
	})
}
