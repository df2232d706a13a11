package sqlite

import (
	"testing"
	"time"
)

func TestParseStoredTime(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-12-03 18:16:59.524756+00:00", want: utc("2026-12-03T18:16:59.524756Z")},
		{in: "2026-12-03 18:16:59+00:00", want: utc("2026-12-03T18:16:59Z")},
		{in: "2026-12-03 18:16:59.5+00:00", want: utc("2026-12-03T18:16:59.5Z")},
		{in: "2026-12-03 18:16:59.123456789+00:00", want: utc("2026-12-03T18:16:59.123456789Z")},
		{in: "2026-12-03 19:16:59.000001+01:00", want: utc("2026-12-03T18:16:59.000001Z")},
		{in: "2026-12-03 08:46:59-09:30", want: utc("2026-12-03T18:16:59Z")},
		{in: "2026-12-03T18:16:59Z", want: utc("2026-12-03T18:16:59Z")},
		{in: "2026-12-03 18:16:59", want: utc("2026-12-03T18:16:59Z")},
		{in: "2024-02-29 00:00:00+00:00", want: utc("2024-02-29T00:00:00Z")},
		{in: "2026-02-30 00:00:00+00:00", bad: true},
		{in: "2026-13-01 00:00:00+00:00", bad: true},
		{in: "2026-12-03 24:00:00+00:00", bad: true},
		{in: "2026-12-03 18:16:59.+00:00", bad: true},
		{in: "2026-12-03 18:16", bad: true},
		{in: "yesterday", bad: true},
		{in: "", bad: true},
	}
	for _, tc := range tests {
		got, err := parseStoredTime(tc.in)
		switch {
		case tc.bad && err == nil:
			t.Errorf("%q: %v, want an error", tc.in, got)
		case !tc.bad && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case !tc.bad && (!got.Equal(tc.want) || got.Location() != time.UTC):
			t.Errorf("%q = %v, want %v", tc.in, got, tc.want)
		}
		// The hand-written reading agrees with time.Parse on what both read.
		if fast, ok := parseStoredFast(tc.in); ok {
			if slow, err := time.Parse(storedTimeLayout, tc.in); err == nil && !slow.Equal(fast) {
				t.Errorf("%q: %v by hand, %v by time.Parse", tc.in, fast, slow)
			}
		}
	}
}
