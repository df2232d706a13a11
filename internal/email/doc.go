// Package email sends the e-mail deliveries of notification events: it
// renders each message from the event (templates, safe HTML, plain text),
// sends it over a pool of reused SMTP connections (go-mail), and records
// the outcome of every attempt, retrying temporary failures with
// exponential backoff. Deliveries are claimed, sent and recorded in
// batches, under a lease, by River jobs.
package email
