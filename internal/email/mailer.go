package email

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	stdmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
)

// Config tunes a Mailer.
type Config struct {
	// SMTP is the mail server; with no Host, nothing is sent and
	// deliveries stay queued.
	SMTP SMTPConfig
	// From and ReplyTo are "Name <address>" or addresses.
	From    string
	ReplyTo string
	// TemplatesDir holds per-type templates (see Templates).
	TemplatesDir string
	// DefaultLocale (fr, en) is for users without a known locale and for
	// companies' own addresses.
	DefaultLocale string
	// MaxAttempts, RetryBase and RetryWindow make the Backoff.
	MaxAttempts int
	RetryBase   time.Duration
	RetryWindow time.Duration
	// BatchSize is how many deliveries one claim takes (default 500).
	BatchSize int
	// Lease is how long a claim holds its deliveries before another worker
	// may take them (default 10s): a process renews its claims every
	// quarter of it while it sends them, so that the deliveries of a
	// process that died are taken again a lease after its last renewal.
	Lease time.Duration
	// Slice is how long one job sends before it hands over to a new job,
	// so that stopping a process never waits long (default 10s).
	Slice time.Duration
	// SweepInterval is how often the leader looks for deliveries no job
	// is on its way for: lapsed claims, deliveries queued while no server
	// was configured (default 30s).
	SweepInterval time.Duration
	// DigestInterval is how often the leader looks for digests that fell
	// due (default 1m).
	DigestInterval time.Duration
	// Zone is the time zone of people who set none (setting time_zone),
	// for their digests' schedules and dates; nil: UTC.
	Zone *time.Location
	// IdleTimeout closes connections no job has used for that long
	// (default 30s).
	IdleTimeout time.Duration
}

// Mailer sends e-mail deliveries: River jobs claim them in batches, render
// and send them, and record each outcome.
type Mailer struct {
	st     store.Store
	queue  jobs.Queue
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	jitter func() float64
	tmpl   *Templates

	// runner claims, retries and records the deliveries this channel
	// sends (internal/outbound); set by SetRunner.
	runner *outbound.Runner

	sender  *sender // nil when no server is configured
	from    *stdmail.Address
	replyTo *stdmail.Address
	domain  string // of From: ends Message-IDs

	warnOnce sync.Once
}

// New returns a Mailer; register its workers, then give it the queue.
// Errors name the setting at fault.
func New(st store.Store, cfg Config, logger *slog.Logger) (*Mailer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 500)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 12)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, 30*time.Second)
	cfg.RetryWindow = cmp.Or(cfg.RetryWindow, 24*time.Hour)
	cfg.SMTP.Timeout = cmp.Or(cfg.SMTP.Timeout, 30*time.Second)
	cfg.Lease = cmp.Or(cfg.Lease, 10*time.Second)
	cfg.Slice = cmp.Or(cfg.Slice, 10*time.Second)
	cfg.SweepInterval = cmp.Or(cfg.SweepInterval, 30*time.Second)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, 30*time.Second)
	cfg.DigestInterval = cmp.Or(cfg.DigestInterval, time.Minute)
	cfg.DefaultLocale = NormLocale(cfg.DefaultLocale, "fr")
	tmpl, err := LoadTemplates(cfg.TemplatesDir, cfg.DefaultLocale)
	if err != nil {
		return nil, err
	}
	m := &Mailer{st: st, cfg: cfg, logger: logger, now: time.Now, tmpl: tmpl}
	if strings.TrimSpace(cfg.SMTP.Host) == "" {
		return m, nil
	}
	if m.from, err = stdmail.ParseAddress(cfg.From); err != nil {
		return nil, store.Invalid("smtp.from", "%q is not an e-mail address: %v", cfg.From, err)
	}
	if cfg.ReplyTo != "" {
		if m.replyTo, err = stdmail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, store.Invalid("smtp.reply_to", "%q is not an e-mail address: %v", cfg.ReplyTo, err)
		}
	}
	m.domain = m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	if m.sender, err = newSender(cfg.SMTP, cfg.IdleTimeout, logger); err != nil {
		return nil, err
	}
	return m, nil
}

// OutboundConfig is how the outbound layer sends e-mail: register the
// mailer as a channel with it (outbound.Registry.Add), then SetRunner.
func (m *Mailer) OutboundConfig() outbound.Config {
	return outbound.Config{
		MaxAttempts: m.cfg.MaxAttempts, RetryBase: m.cfg.RetryBase, RetryWindow: m.cfg.RetryWindow,
		BatchSize: m.cfg.BatchSize, Lease: m.cfg.Lease, Slice: m.cfg.Slice, SweepInterval: m.cfg.SweepInterval,
		Workers: m.workers(),
		// A slow server may take several SMTP timeouts for the last batch.
		SendTimeout:     10 * m.cfg.SMTP.Timeout,
		MessageIDDomain: m.domain,
	}
}

// SetRunner gives the mailer the runner that sends its deliveries.
func (m *Mailer) SetRunner(r *outbound.Runner) { m.runner = r }

// SetQueue gives the mailer the queue its digest jobs go to.
func (m *Mailer) SetQueue(q jobs.Queue) { m.queue = q }

// SetClock replaces time.Now for the times recorded (tests).
func (m *Mailer) SetClock(now func() time.Time) { m.now = now }

// Configured reports whether a mail server is set.
func (m *Mailer) Configured() bool { return m.sender != nil }

// WarnUnconfigured logs, once per process, that e-mails are not sent.
func (m *Mailer) WarnUnconfigured(ctx context.Context) {
	if m.sender != nil {
		return
	}
	m.warnOnce.Do(func() {
		m.logger.WarnContext(ctx, "email: smtp.host is not set: e-mail deliveries stay queued until a mail server is configured")
	})
}

// Close closes the connections to the mail server.
func (m *Mailer) Close() {
	if m.sender != nil {
		m.sender.closeAll()
	}
}

// EnqueueTx starts the sending of an event's deliveries once tx commits;
// it implements dispatch.Mailer.
func (m *Mailer) EnqueueTx(ctx context.Context, tx store.Tx, eventID int64) error {
	return m.runner.EnqueueTx(ctx, tx, eventID)
}

// TestResult is what the mail server answered to a test message.
type TestResult struct {
	Server    string `json:"server"`     // host:port
	TLS       string `json:"tls"`        // the TLS mode
	From      string `json:"from"`       // the sender
	To        string `json:"to"`         // the address tested
	MessageID string `json:"message_id"` // of the test message
	Response  string `json:"response"`   // the server's answer to the message
}

// SendTest sends one test message to address on a connection of its own
// and returns the server's answer; a refusal is an *SMTPError.
func (m *Mailer) SendTest(ctx context.Context, address string) (*TestResult, error) {
	if m.sender == nil {
		return nil, store.Invalid("smtp.host", "is not set: configure the mail server first ([smtp] in the configuration file, or CLOCHE_SMTP__HOST)")
	}
	to, err := stdmail.ParseAddress(address)
	if err != nil {
		return nil, store.Invalid("address", "%q is not an e-mail address: %v", address, err)
	}
	c := &Content{Key: "cloche:test", Title: testTitle[m.cfg.DefaultLocale], Body: testBody[m.cfg.DefaultLocale], StatusType: store.StatusNeutral}
	msg, err := m.tmpl.Render(c, Recipient{Address: to.Address, Locale: m.cfg.DefaultLocale, Reason: "direct"})
	if err != nil {
		return nil, err
	}
	id := randomHex(8) + ".test@" + m.domain
	x, err := m.message(&store.ClaimedDelivery{Delivery: store.Delivery{Address: to.Address, MessageID: id}, Name: to.Name}, msg, nil)
	if err != nil {
		return nil, err
	}
	res := &TestResult{Server: m.sender.client.ServerAddr(), TLS: cmp.Or(m.cfg.SMTP.TLS, "starttls"),
		From: m.from.String(), To: to.Address, MessageID: id}
	if res.Response, err = m.sender.sendOne(ctx, x); err != nil {
		return res, err
	}
	return res, nil
}

var (
	testTitle = map[string]string{"fr": "Message de test de Cloche", "en": "Cloche test message"}
	testBody  = map[string]string{
		"fr": "Ce message vérifie que Cloche peut envoyer des courriels avec sa configuration actuelle.",
		"en": "This message checks that Cloche can send e-mail with its current settings.",
	}
)

// message builds the e-mail of claimed delivery c: msg is its rendering,
// ev its event (nil for a test message).
func (m *Mailer) message(c *store.ClaimedDelivery, msg *Message, ev *eventContent) (*mail.Msg, error) {
	to, err := stdmail.ParseAddress(c.Address)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", c.Address, err)
	}
	to.Name = c.Name
	x := mail.NewMsg(mail.WithNoDefaultUserAgent())
	x.FromMailAddress(m.from)
	x.ToMailAddress(to)
	if m.replyTo != nil {
		x.ReplyToMailAddress(m.replyTo)
	}
	x.Subject(msg.Subject)
	x.SetMessageIDWithValue(c.MessageID)
	x.SetDateWithValue(m.now())
	x.SetUserAgent("Cloche")
	x.SetGenHeader("Auto-Submitted", "auto-generated")
	x.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	x.SetGenHeader(mail.HeaderContentLang, msg.Locale)
	if c.ID != 0 {
		if id := c.DigestID(); id != 0 {
			x.SetGenHeader("X-Cloche-Digest", strconv.FormatInt(id, 10))
		} else {
			x.SetGenHeader("X-Cloche-Event", strconv.FormatInt(c.EventID, 10))
		}
		x.SetGenHeader("X-Cloche-Delivery", strconv.FormatInt(c.ID, 10))
	}
	x.SetBodyString(mail.TypeTextPlain, msg.Text)
	x.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	if ev != nil {
		for _, a := range ev.attachments {
			x.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(a.ContentType)))
		}
	}
	return x, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errEventGone: a delivery whose event no longer exists.
var errEventGone = errors.New("its event no longer exists")

// Queue is the River queue of e-mail jobs. Only processes with a mail
// server work it: elsewhere its jobs wait, and so do the deliveries.
const Queue = store.OutboundEmail

// workers is how many e-mail jobs one process with a mail server runs at
// once.
func (m *Mailer) workers() int {
	if m.sender == nil {
		return 0
	}
	return min(max(cap(m.sender.slots), 2), 4)
}

// Register adds the mailer's digest worker to w (the sending worker is
// the outbound layer's).
func (m *Mailer) Register(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &digestWorker{m: m}); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	return nil
}

// PeriodicJobs are the jobs the leader runs on a schedule: digests.
func (m *Mailer) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{m.digestJob()}
}
