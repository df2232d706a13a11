package config

import (
	"time"

	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/store"
)

// Push configures browser push (Web Push). Without a Subject nothing is
// pushed: push deliveries wait until one is set, as e-mail waits for a
// mail server.
type Push struct {
	// Subject is the contact push services may use about this server, in
	// every VAPID token: a mailto: address or an https: URL.
	Subject string `koanf:"subject"`
	// Timeout bounds one push: connecting, posting, the answer.
	Timeout Duration `koanf:"timeout"`
	// Concurrency is how many pushes one process has in flight at once.
	Concurrency int `koanf:"concurrency"`
	// AllowLoopback accepts subscriptions whose endpoint is plain http on
	// a loopback address (127.0.0.1): for tests with a local push service.
	AllowLoopback bool `koanf:"allow_loopback"`
}

func defaultPush() Push {
	return Push{Timeout: Duration(30 * time.Second), Concurrency: 64}
}

// Configured reports whether pushes can be sent.
func (p Push) Configured() bool { return p.Subject != "" }

func (p Push) validate() []error {
	var errs []error
	if p.Subject != "" {
		if err := push.CheckSubject(p.Subject); err != nil {
			errs = append(errs, store.Invalid("push.subject", "%v", err))
		}
	}
	if p.Timeout <= 0 {
		errs = append(errs, store.Invalid("push.timeout", "must be positive"))
	}
	if p.Concurrency < 1 || p.Concurrency > 1024 {
		errs = append(errs, store.Invalid("push.concurrency", "must be between 1 and 1024"))
	}
	return errs
}
