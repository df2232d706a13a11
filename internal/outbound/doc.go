// Package outbound sends what leaves the process: the deliveries of
// e-mail, browser push and webhooks, one shape for all of them, so that a
// new channel is a package, not a rewrite.
//
// A delivery (store.Delivery, table deliveries) has a channel ("email",
// "push", "webhook"), a target (an e-mail address, a push subscription
// id, a webhook outlet id), a state (queued, sending, sent, retrying,
// failed, skipped), its attempts, the last answer, and, when held (quiet
// hours, e-mail only if unread), a not-before time. Deliveries are queued
// with store.DeliveryInsertMany (Channel, and each recipient's Target) in
// the transaction that creates the event, with Runner.EnqueueTx, so that
// their sending starts if and only if it commits.
//
// # What the layer does
//
// For each channel, a Runner (registry.go, runner.go, lease.go, jobs.go):
//
//   - runs River jobs of kind "cloche.CHANNEL_send" in the queue CHANNEL,
//     worked only by the processes where the channel is Ready;
//   - claims due deliveries in batches (store.DeliveryClaim, with the
//     channel) under a lease, renewed every quarter of it while the batch
//     is sent; a delivery is never started once less than half the lease
//     is known to be left (Batch.MayStart);
//   - has the channel send each batch while it claims the next and
//     records the previous one (store.DeliveryRecord, one statement);
//   - turns outcomes into states: Sent → sent; Temporary → retrying, with
//     exponential backoff and ±20 % jitter (Backoff), never sooner than
//     the RetryAfter the server asked for, until MaxAttempts, then failed
//     ("gave up after N attempts: …"); Permanent → failed with its reason;
//     Gone → failed ("target gone: …") and the channel told
//     (GoneHandler); NotTried → given back, its attempt not counted; Down
//     → the rest of the job's claims retry the same way, untried;
//   - schedules the next job for the earliest retry or hold; a periodic
//     sweep (CHANNEL_sweep) catches what no job is on its way for;
//   - watches the other processes' leases: when one lapses (its process
//     died), a job takes its deliveries again at once (Rescued counts
//     them), keeping what the channel gave them (e-mail: the Message-ID);
//   - Registry.Retry and Registry.RetryFailed queue failed deliveries
//     again, whatever their channel: the console's and the command line's
//     retry (`cloche deliveries retry`); `cloche deliveries list
//     --channel X` and the console list them; metrics count them per
//     channel and state.
//
// # Writing a channel
//
// A channel is a type that implements Channel:
//
//	type Channel interface {
//		Name() string                   // "push": the deliveries' channel, queue and job kind
//		Ready() bool                    // this process can send it (configured)
//		Begin(ctx context.Context) Job  // one job: sends its batches in turn
//	}
//
//	type Job interface {
//		Send(ctx context.Context, b *Batch) ([]Outcome, error) // one outcome per delivery, in order
//		End()
//	}
//
// Send renders and sends b.Deliveries (each with its Target, EventID,
// UserID, Attempts) and classifies each outcome: Sent, Temporary (with an
// optional RetryAfter), Permanent, Gone, or NotTried for one it did not
// start because b.MayStart() said no. It may send them concurrently. An
// error is for a batch that could not be prepared (the database failed):
// the batch is given back untried. A job may keep what its batches share
// (an event read once). Optional interfaces: GoneHandler (forget targets
// that are gone, e.g. remove a push subscription), NotReadyWarner.
//
// Register it at Open, in cloche's addChannels:
//
//	r, err := s.outbound.Add(pushChannel, outbound.Config{Workers: 4, ...})
//
// and queue its deliveries with store.DeliveryInsertMany{Channel: "push",
// Recipients: [{UserID, Target: subscriptionID}]} then r.EnqueueTx. The
// layer does the rest: claims, leases, retries, rescue, retry from the
// console and the command line, listing, metrics.
package outbound
