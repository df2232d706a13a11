// Package email sends the e-mail deliveries of notification events: it
// renders each message from the event (templates, safe HTML, plain text),
// sends it over a pool of reused SMTP connections (go-mail), and records
// the outcome of every attempt, retrying temporary failures with
// exponential backoff. Deliveries are claimed, sent and recorded in
// batches, under a lease renewed while they are sent, by River jobs; a
// watcher in every process with a mail server has the deliveries of a
// process that died taken again once its lease lapses (lease.go).
//
// Digests (digest.go, digestrun.go): a periodic job claims the digest
// schedules that fell due, renders one message per person listing the
// e-mails held for them, and queues it as an ordinary delivery, in the
// transaction that claims them.
package email
