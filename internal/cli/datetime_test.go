package cli

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/dispatch"
)

func TestParseDatetime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2023-12-05T12:00:00+01:00", want: time.Date(2023, 12, 5, 11, 0, 0, 0, time.UTC)},
		{in: "2023-12-05T12:00:00Z", want: time.Date(2023, 12, 5, 12, 0, 0, 0, time.UTC)},
		{in: "2023-12-05T12:00:00.250-05:00", want: time.Date(2023, 12, 5, 17, 0, 0, 250e6, time.UTC)},
		{in: "2023-12-05 12:00:00", want: time.Date(2023, 12, 5, 12, 0, 0, 0, paris)},
		{in: "2023-12-05 12:00", want: time.Date(2023, 12, 5, 12, 0, 0, 0, paris)},
		{in: "2023-12-05T12:00", want: time.Date(2023, 12, 5, 12, 0, 0, 0, paris)},
		{in: "  2023-12-05  ", want: time.Date(2023, 12, 5, 0, 0, 0, 0, paris)},
		{in: "2023-07-05 12:00", want: time.Date(2023, 7, 5, 10, 0, 0, 0, time.UTC)}, // summer time: +02:00
		{in: "", bad: true},
		{in: "tomorrow", bad: true},
		{in: "2023-13-05", bad: true},
		{in: "05/12/2023", bad: true},
		{in: "2023-12-05 25:00", bad: true},
		{in: "2023-12-05 12", bad: true},
		{in: "0000-01-01", bad: true},
		{in: "0000-01-01T00:00:00Z", bad: true},
		{in: "1969-12-31T23:59:59Z", bad: true},
		{in: "9000-01-02", bad: true},
		{in: "1970-01-01T00:00:00Z", want: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDatetime(tc.in, paris)
			if tc.bad {
				if err == nil {
					t.Fatalf("parsed as %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOptionalDatetime(t *testing.T) {
	got, err := optionalDatetime("--from", "", time.UTC)
	if got != nil || err != nil {
		t.Errorf("empty: got %v, %v; want nil, nil", got, err)
	}
	_, err = optionalDatetime("--from", "soon", time.UTC)
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("malformed: got %v, want a usage error", err)
	}
	if want := `--from: "soon" is not a datetime`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want it to start with %q", err, want)
	}
}

// FuzzParseDatetime: whatever is typed, a datetime read is between 1970
// and 9000 and reads back the same from its RFC 3339 form; anything else
// is an error quoting what was typed.
func FuzzParseDatetime(f *testing.F) {
	for _, seed := range []string{"2023-12-05T12:00:00+01:00", "2023-12-05 12:00:00", "2023-12-05 12:00", "2023-12-05T12:00",
		"2023-12-05", "0000-01-01", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2023-12-05T12:00:00.123456789-23:59",
		"2023-03-26 02:30", "2023-10-29 02:30", "tomorrow", "", " 2023-12-05 "} {
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
		if got.Before(dispatch.MinDatetime) || !got.Before(dispatch.MaxDatetime) {
			t.Fatalf("%q read as %v, out of range", s, got)
		}
		again, err := parseDatetime(got.Format(time.RFC3339Nano), paris)
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q read as %v, whose RFC 3339 form reads as %v, %v", s, got, again, err)
		}
	})
}
