// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on 127.0.0.1 for tests and benchmarks: it keeps the messages it
// accepts, and answers otherwise when told to (4xx, 5xx, a dropped
// connection), per command and attempt.
package smtptest
