package cloche

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/email"
	"github.com/cloche/cloche/internal/store"
)

// Attachment is a file sent with every e-mail of an event: a name, a
// content type (application/octet-stream when empty) and the bytes. The
// attachments of one notification weigh at most email.max_attachment_size
// together.
type Attachment = dispatch.Attachment

// Delivery states.
const (
	DeliveryQueued   = store.DeliveryQueued
	DeliverySending  = store.DeliverySending
	DeliverySent     = store.DeliverySent
	DeliveryRetrying = store.DeliveryRetrying
	DeliveryFailed   = store.DeliveryFailed
	DeliverySkipped  = store.DeliverySkipped
)

// TestEmailResult is what the mail server answered to a test message.
type TestEmailResult = email.TestResult

// SMTPError is an e-mail the mail server refused (Code, Message), or could
// not be sent for want of a server (Code 0). Temporary tells a 4xx answer
// or a connection failure from a 5xx refusal.
type SMTPError = email.SMTPError

// WithSMTPTLSConfig replaces the TLS settings used with the mail server,
// for example to trust a private certificate authority (RootCAs). Its
// ServerName defaults to smtp.host.
func WithSMTPTLSConfig(c *tls.Config) Option { return func(o *options) { o.smtpTLS = c } }

// mailerConfig is the e-mail part of cfg.
func mailerConfig(cfg Config, tlsConfig *tls.Config) email.Config {
	return email.Config{
		SMTP: email.SMTPConfig{
			Host:        cfg.SMTP.Host,
			Port:        cfg.SMTP.PortOrDefault(),
			Username:    cfg.SMTP.Username,
			Password:    cfg.SMTP.Password,
			TLS:         cfg.SMTP.TLS,
			HELO:        cfg.SMTP.HELO,
			Timeout:     cfg.SMTP.Timeout.D(),
			Connections: cfg.SMTP.Connections,
			TLSConfig:   tlsConfig,
		},
		From:          cfg.SMTP.From,
		ReplyTo:       cfg.SMTP.ReplyTo,
		TemplatesDir:  cfg.Email.TemplatesDir,
		DefaultLocale: cfg.Email.DefaultLocale,
		MaxAttempts:   cfg.Email.MaxAttempts,
		RetryBase:     cfg.Email.RetryBase.D(),
		RetryWindow:   cfg.Email.RetryWindow.D(),
		BatchSize:     cfg.Email.BatchSize,
		Lease:         cfg.Email.Lease.D(),
	}
}

// Delivery returns one e-mail delivery.
func (s *Service) Delivery(ctx context.Context, id int64) (*Delivery, error) {
	d, err := s.store.DeliveryGet(ctx, id)
	return d, wrap(fmt.Sprintf("delivery %d", id), err)
}

// RetryDelivery queues a failed delivery again, with a fresh count of
// attempts (a retrying one is tried at once), and starts its sending; the
// last SMTP answer stays on record until the next attempt. It is
// ErrConflict for a delivery queued, being sent or sent.
func (s *Service) RetryDelivery(ctx context.Context, id int64) (*Delivery, error) {
	d, err := s.outbound.Retry(ctx, id, s.now())
	return d, wrap(fmt.Sprintf("delivery %d", id), err)
}

// RetryFailedDeliveries queues every failed delivery again (only those of
// event eventID, when it is not zero) and returns how many.
func (s *Service) RetryFailedDeliveries(ctx context.Context, eventID int64) (int, error) {
	n, err := s.outbound.RetryFailed(ctx, "", eventID, s.now())
	return n, wrap("retry failed deliveries", err)
}

// SendTestEmail sends one test message to address through the configured
// mail server, on a connection of its own, and returns what the server
// answered: a way to check the [smtp] settings. A refusal is an *SMTPError
// (with the TestEmailResult describing the attempt); no smtp.host is an
// ErrInvalid naming it.
func (s *Service) SendTestEmail(ctx context.Context, address string) (*TestEmailResult, error) {
	if err := store.CheckEmail("address", address); err != nil {
		return nil, err
	}
	res, err := s.mailer.SendTest(ctx, address)
	return res, wrap("test e-mail", err)
}

// DeliveriesRescued is how many e-mail deliveries this process took again
// since it started because the claim of the process sending them lapsed
// (that process died, or lost the database).
func (s *Service) DeliveriesRescued() int64 { return s.outbound.Runner(store.OutboundEmail).Rescued() }

// EmailConfigured reports whether a mail server is configured: without
// one, e-mail deliveries stay queued.
func (s *Service) EmailConfigured() bool { return s.mailer.Configured() }

// SendDueEmail starts a job that sends whatever e-mail is due now, held
// e-mail whose time has come included. A process with a mail server does
// so when it starts, and each job schedules the next for the earliest
// held or retrying delivery; this is for a clock moved by hand (tests)
// or an operator who wants it now.
func (s *Service) SendDueEmail(ctx context.Context) error {
	return wrap("send due e-mail", s.outbound.Runner(store.OutboundEmail).Kick(ctx))
}
