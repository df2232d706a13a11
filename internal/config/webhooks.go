package config

import (
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Webhooks configures outgoing webhooks (README, "Webhooks").
type Webhooks struct {
	// PauseAfter is how long an outlet may fail every attempt before it
	// is paused (until resumed).
	PauseAfter Duration `koanf:"pause_after"`
	// Timeout bounds one request to an outlet.
	Timeout Duration `koanf:"timeout"`
	// Connections is how many requests one job has in flight at once.
	Connections int `koanf:"connections"`
	// MaxAttempts, RetryBase and RetryWindow: as for e-mail.
	MaxAttempts int      `koanf:"max_attempts"`
	RetryBase   Duration `koanf:"retry_base"`
	RetryWindow Duration `koanf:"retry_window"`
}

func defaultWebhooks() Webhooks {
	return Webhooks{PauseAfter: Duration(24 * time.Hour), Timeout: Duration(10 * time.Second), Connections: 32,
		MaxAttempts: 12, RetryBase: Duration(30 * time.Second), RetryWindow: Duration(24 * time.Hour)}
}

func (w Webhooks) validate() []error {
	var errs []error
	if w.PauseAfter <= 0 {
		errs = append(errs, store.Invalid("webhooks.pause_after", "must be positive"))
	}
	if w.Timeout < Duration(100*time.Millisecond) || w.Timeout > Duration(5*time.Minute) {
		errs = append(errs, store.Invalid("webhooks.timeout", "must be between 100ms and 5m"))
	}
	if w.Connections < 1 || w.Connections > 1000 {
		errs = append(errs, store.Invalid("webhooks.connections", "must be between 1 and 1000"))
	}
	if w.MaxAttempts < 1 || w.MaxAttempts > 100 {
		errs = append(errs, store.Invalid("webhooks.max_attempts", "must be between 1 and 100"))
	}
	if w.RetryBase <= 0 {
		errs = append(errs, store.Invalid("webhooks.retry_base", "must be positive"))
	}
	if w.RetryWindow < w.RetryBase {
		errs = append(errs, store.Invalid("webhooks.retry_window", "must be at least webhooks.retry_base (%s)", w.RetryBase))
	}
	return errs
}
