package email

import (
	"time"

	"github.com/cloche/cloche/internal/outbound"
)

// Backoff spaces the attempts of one e-mail: the outbound layer's.
type Backoff = outbound.Backoff

// NewBackoff returns the backoff whose waits start at base and add up to
// window over maxAttempts attempts (maxAttempts-1 waits).
func NewBackoff(base, window time.Duration, maxAttempts int) Backoff {
	return outbound.NewBackoff(base, window, maxAttempts)
}
