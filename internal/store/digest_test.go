package store

import (
	"testing"
	"time"
)

// TestDigestNext: when each frequency falls due next, in the person's
// zone, across midnight, a week and the two daylight-saving changes of
// Europe/Paris, and in a zone with a 30-minute offset.
func TestDigestNext(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	adelaide, err := time.LoadLocation("Australia/Adelaide")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		s     DigestSetting
		loc   *time.Location
		after string
		want  string // RFC 3339, UTC; empty: none
	}{
		{"hourly", DigestSetting{Frequency: DigestHourly}, paris, "2026-03-02T07:20:00Z", "2026-03-02T08:00:00Z"},
		{"hourly on the hour", DigestSetting{Frequency: DigestHourly}, time.UTC, "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"},
		{"hourly, fall back", DigestSetting{Frequency: DigestHourly}, paris, "2026-10-25T00:20:00Z", "2026-10-25T01:00:00Z"},
		{"hourly, 30-minute zone", DigestSetting{Frequency: DigestHourly}, adelaide, "2026-03-02T07:20:00Z", "2026-03-02T07:30:00Z"},
		{"daily later today", DigestSetting{Frequency: DigestDaily, At: "08:00"}, paris, "2026-03-02T05:00:00Z", "2026-03-02T07:00:00Z"},
		{"daily at the time: tomorrow", DigestSetting{Frequency: DigestDaily, At: "08:00"}, paris, "2026-03-02T07:00:00Z", "2026-03-03T07:00:00Z"},
		{"daily across midnight", DigestSetting{Frequency: DigestDaily, At: "00:30"}, paris, "2026-03-02T22:00:00Z", "2026-03-02T23:30:00Z"},
		{"daily, spring forward", DigestSetting{Frequency: DigestDaily, At: "08:00"}, paris, "2026-03-28T08:00:00Z", "2026-03-29T06:00:00Z"},
		{"daily, skipped time", DigestSetting{Frequency: DigestDaily, At: "02:30"}, paris, "2026-03-28T08:00:00Z", "2026-03-29T01:30:00Z"},
		{"daily, fall back", DigestSetting{Frequency: DigestDaily, At: "08:00"}, paris, "2026-10-24T08:00:00Z", "2026-10-25T07:00:00Z"},
		{"daily, repeated time", DigestSetting{Frequency: DigestDaily, At: "02:30"}, paris, "2026-10-24T08:00:00Z", "2026-10-25T00:30:00Z"},
		{"daily, 30-minute zone", DigestSetting{Frequency: DigestDaily, At: "08:00"}, adelaide, "2026-03-02T00:00:00Z", "2026-03-02T21:30:00Z"},
		{"weekly later this week", DigestSetting{Frequency: DigestWeekly, At: "09:00", Day: "friday"}, paris, "2026-03-02T07:00:00Z", "2026-03-06T08:00:00Z"},
		{"weekly same day, past the time", DigestSetting{Frequency: DigestWeekly, At: "09:00", Day: "monday"}, paris, "2026-03-02T09:00:00Z", "2026-03-09T08:00:00Z"},
		{"weekly same day, before the time", DigestSetting{Frequency: DigestWeekly, At: "09:00", Day: "monday"}, paris, "2026-03-02T07:00:00Z", "2026-03-02T08:00:00Z"},
		{"immediate", DigestSetting{Frequency: DigestImmediate}, paris, "2026-03-02T07:00:00Z", ""},
		{"bad time", DigestSetting{Frequency: DigestDaily, At: "8h"}, paris, "2026-03-02T07:00:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.s.Next(utc(tc.after), tc.loc)
			if tc.want == "" {
				if !got.IsZero() {
					t.Errorf("got %v, want none", got)
				}
				return
			}
			if want := utc(tc.want); !got.Equal(want) {
				t.Errorf("got %v, want %v", got.UTC(), want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for in, ok := range map[string]bool{"08:00": true, "23:59": true, "00:00": true, "24:00": false, "8:00": false, "08:60": false, "0800": false, "": false, "-1:00": false} {
		if _, _, err := ParseClock(in); (err == nil) != ok {
			t.Errorf("ParseClock(%q): %v", in, err)
		}
	}
}
