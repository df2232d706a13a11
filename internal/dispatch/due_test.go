package dispatch

import (
	"testing"
	"time"
)

// After finding due events held elsewhere n times in a row, the due loop
// waits 10 ms, then twice as long each time, never beyond its poll.
func TestHeldBackoff(t *testing.T) {
	const poll = 250 * time.Millisecond
	cases := []struct {
		held int
		poll time.Duration
		want time.Duration
	}{
		{1, poll, 10 * time.Millisecond},
		{2, poll, 20 * time.Millisecond},
		{3, poll, 40 * time.Millisecond},
		{5, poll, 160 * time.Millisecond},
		{6, poll, poll},
		{1000, poll, poll},
		{1, time.Millisecond, minDueWait}, // a poll below the floor: the floor
	}
	for _, tc := range cases {
		if got := heldBackoff(tc.held, tc.poll); got != tc.want {
			t.Errorf("heldBackoff(%d, %s) = %s, want %s", tc.held, tc.poll, got, tc.want)
		}
	}
}
