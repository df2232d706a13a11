package cli

import (
	"errors"
	"strings"
	"testing"
	"time"
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
