package outbound

import (
	"math"
	"time"
)

// Backoff spaces the attempts of one delivery: the first retry waits Base,
// each next one Ratio times longer, so that MaxAttempts attempts span
// about Window; each wait is moved by up to ±20 % at random, so that
// messages that failed together do not come back together.
type Backoff struct {
	Base        time.Duration
	Ratio       float64
	MaxAttempts int
}

// NewBackoff returns the backoff whose waits start at base and add up to
// window over maxAttempts attempts (maxAttempts-1 waits).
func NewBackoff(base, window time.Duration, maxAttempts int) Backoff {
	b := Backoff{Base: base, Ratio: 1, MaxAttempts: maxAttempts}
	waits := maxAttempts - 1
	if waits <= 1 || base <= 0 || float64(window) <= float64(base)*float64(waits) {
		return b
	}
	// Solve base × (r^waits − 1)/(r − 1) = window for r > 1 by bisection.
	sum := func(r float64) float64 { return float64(base) * (math.Pow(r, float64(waits)) - 1) / (r - 1) }
	lo, hi := 1.0000001, 1000.0
	for range 200 {
		mid := (lo + hi) / 2
		if sum(mid) < float64(window) {
			lo = mid
		} else {
			hi = mid
		}
	}
	b.Ratio = (lo + hi) / 2
	return b
}

// Wait is the wait after attempt (1 for the first) failed; jitter in
// [0, 1) places it within ±20 %.
func (b Backoff) Wait(attempt int, jitter float64) time.Duration {
	d := float64(b.Base) * math.Pow(b.Ratio, float64(max(attempt, 1)-1))
	d *= 0.8 + 0.4*jitter
	if d > float64(math.MaxInt64/2) {
		d = float64(math.MaxInt64 / 2)
	}
	return time.Duration(d)
}
