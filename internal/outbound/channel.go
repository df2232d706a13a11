package outbound

import (
	"context"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Channel is one way out of the process: e-mail, browser push, webhooks.
// The layer claims its due deliveries in batches and gives each batch to
// a Job of the channel, which renders and sends it and says what became of
// each delivery; the layer records the outcomes, schedules the retries and
// rescues the claims of processes that died.
type Channel interface {
	// Name is the channel of the deliveries it sends (store.Delivery's
	// Channel): "email", "push", "webhook". It names the River queue and
	// job kind ("cloche.NAME_send") too.
	Name() string
	// Ready says whether this process can send (e-mail: a mail server is
	// configured). When it cannot, it runs no job of the channel, and the
	// deliveries wait for a process that can.
	Ready() bool
	// Begin starts a job, which sends one or more batches, in turn, then
	// is ended. A job may keep what its batches share (an event read
	// once, a rendering made once).
	Begin(ctx context.Context) Job
}

// Job sends the batches of one job of a channel.
type Job interface {
	// Send sends a batch and returns one outcome per delivery, in order.
	// A delivery may be sent only while b.MayStart() says yes (the claim
	// is known to hold); one not tried is NotTried. An error means the
	// batch could not be prepared (the database failed): the batch is
	// given back untried and the job stops.
	Send(ctx context.Context, b *Batch) ([]Outcome, error)
	// End ends the job.
	End()
}

// Batch is a claim's deliveries, due and held by this process.
type Batch struct {
	Deliveries []store.ClaimedDelivery
	mayStart   func() bool
}

// NewBatch returns a batch of ds whose claim holds while mayStart says so
// (nil: always); for tests of channels.
func NewBatch(ds []store.ClaimedDelivery, mayStart func() bool) *Batch {
	if mayStart == nil {
		mayStart = func() bool { return true }
	}
	return &Batch{Deliveries: ds, mayStart: mayStart}
}

// MayStart says whether a delivery of the batch may still be started:
// not once less than half the lease is known to be left (the claim's
// renewals failed), so that no other process takes it while it is sent.
func (b *Batch) MayStart() bool { return b.mayStart() }

// Result is what became of one delivery.
type Result int

// Results.
const (
	// Permanent: refused for good (SMTP 5xx, HTTP 4xx): failed, with its
	// reason kept. The zero Result is Permanent.
	Permanent Result = iota
	// Sent: accepted by the mail server, the push service, the receiver.
	Sent
	// Temporary: worth trying again later (SMTP 4xx, HTTP 5xx, a timeout),
	// with backoff and jitter, until the attempts run out.
	Temporary
	// Gone: the target no longer exists (a push subscription the service
	// answers 404 or 410 for): failed for good; the channel is told
	// (GoneHandler) once the outcome is recorded.
	Gone
	// NotTried: not sent (the job stops, or the claim could lapse): given
	// back untried, its attempt not counted.
	NotTried
)

func (r Result) String() string {
	switch r {
	case Sent:
		return "sent"
	case Temporary:
		return "temporary"
	case Gone:
		return "gone"
	case NotTried:
		return "not tried"
	}
	return "permanent"
}

// Outcome is what became of one delivery of a batch.
type Outcome struct {
	Result Result
	// Code is the server's code (SMTP reply code, HTTP status), 0 when
	// there was none; Message its answer or the error.
	Code    int
	Message string
	// RetryAfter, for Temporary: the least wait the server asked for (HTTP
	// Retry-After); the backoff's wait when it is longer.
	RetryAfter time.Duration
	// Down says the service could not be reached at all: the rest of the
	// job's claims get the same outcome, untried, and the job stops.
	Down bool
}

// GoneHandler is a Channel told of the deliveries whose target is gone,
// after their outcomes are recorded (push: the subscription is removed).
type GoneHandler interface {
	TargetsGone(ctx context.Context, ds []store.ClaimedDelivery) error
}

// NotReadyWarner is a Channel that explains, once, why it does not send.
type NotReadyWarner interface {
	WarnNotReady(ctx context.Context)
}
