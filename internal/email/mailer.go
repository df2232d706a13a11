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
	mathrand "math/rand/v2"
	stdmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/wneessen/go-mail"

	"github.com/cloche/cloche/internal/jobs"
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
	st      store.Store
	queue   jobs.Queue
	cfg     Config
	logger  *slog.Logger
	now     func() time.Time
	jitter  func() float64
	tmpl    *Templates
	backoff Backoff

	sender  *sender // nil when no server is configured
	from    *stdmail.Address
	replyTo *stdmail.Address
	domain  string // of From: ends Message-IDs

	warnOnce sync.Once

	leaseMu   sync.Mutex
	leases    leases       // the claims held (lease.go)
	watchStop func()       // stops the watcher, once started
	rescued   atomic.Int64 // deliveries taken from lapsed claims
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
	m := &Mailer{
		st: st, cfg: cfg, logger: logger, now: time.Now, jitter: mathrand.Float64, tmpl: tmpl,
		backoff: NewBackoff(cfg.RetryBase, cfg.RetryWindow, cfg.MaxAttempts),
		leases:  leases{held: map[string]claim{}},
	}
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

// SetQueue gives the mailer the queue its jobs go to.
func (m *Mailer) SetQueue(q jobs.Queue) { m.queue = q }

// SetClock replaces time.Now for the times recorded (tests).
func (m *Mailer) SetClock(now func() time.Time) { m.now = now }

// Configured reports whether a mail server is set.
func (m *Mailer) Configured() bool { return m.sender != nil }

// Backoff is the retry schedule in use.
func (m *Mailer) Backoff() Backoff { return m.backoff }

// WarnUnconfigured logs, once per process, that e-mails are not sent.
func (m *Mailer) WarnUnconfigured(ctx context.Context) {
	if m.sender != nil {
		return
	}
	m.warnOnce.Do(func() {
		m.logger.WarnContext(ctx, "email: smtp.host is not set: e-mail deliveries stay queued until a mail server is configured")
	})
}

// Close stops the watcher and closes the connections to the mail server.
func (m *Mailer) Close() {
	m.leaseMu.Lock()
	stop := m.watchStop
	m.watchStop = nil
	m.leaseMu.Unlock()
	if stop != nil {
		stop()
	}
	if m.sender != nil {
		m.sender.closeAll()
	}
}

// EnqueueTx starts the sending of an event's deliveries once tx commits;
// it implements dispatch.Mailer.
func (m *Mailer) EnqueueTx(ctx context.Context, tx store.Tx, eventID int64) error {
	return m.queue.InsertTx(ctx, tx, SendArgs{EventID: eventID}, nil)
}

// Retry queues a failed (or retrying) delivery again, with a fresh count
// of attempts, and starts its sending.
func (m *Mailer) Retry(ctx context.Context, id int64) (*store.Delivery, error) {
	var d *store.Delivery
	err := m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: id, At: m.now()}); err != nil {
			return err
		}
		var err error
		if d, err = tx.DeliveryGet(ctx, id); err != nil {
			return err
		}
		return m.queue.InsertTx(ctx, tx, SendArgs{EventID: d.EventID}, nil)
	})
	return d, err
}

// RetryFailed queues every failed delivery again (of eventID, when not
// zero) and returns how many.
func (m *Mailer) RetryFailed(ctx context.Context, eventID int64) (int, error) {
	var n int
	err := m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.DeliveryRetry(ctx, &store.DeliveryRetryParams{EventID: eventID, At: m.now()})
		if err != nil || n == 0 {
			return err
		}
		return m.queue.InsertTx(ctx, tx, SendArgs{EventID: eventID}, nil)
	})
	return n, err
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
const Queue = "email"

// SendArgs is the job that sends due deliveries. Any such job sends every
// due delivery, not only its event's: EventID is for the logs; Sweep marks
// the periodic job.
type SendArgs struct {
	EventID int64 `json:"event_id,omitempty"`
	Sweep   bool  `json:"sweep,omitempty"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "cloche.email_send" }

// InsertOpts puts every e-mail job in Queue.
func (SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// Workers is how many e-mail jobs one process runs at once: none without
// a mail server, so that its e-mail jobs wait for a process that has one.
func (m *Mailer) Workers() int {
	if m.sender == nil {
		return 0
	}
	return min(max(cap(m.sender.slots), 2), 4)
}

// Kick starts a job that sends whatever is due now: a process with a
// mail server does so when it starts.
func (m *Mailer) Kick(ctx context.Context) error {
	if m.sender == nil {
		return nil
	}
	return m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return m.queue.InsertTx(ctx, tx, SendArgs{}, nil)
	})
}

// Register adds the mailer's worker to w.
func (m *Mailer) Register(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &sendWorker{m: m}); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if err := river.AddWorkerSafely(w, &digestWorker{m: m}); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	return nil
}

// PeriodicJobs are the jobs the leader runs on a schedule: a sweep for
// deliveries no job is on its way for.
func (m *Mailer) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(m.cfg.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				// One sweep waiting at most: they must not pile up while
				// no process works the queue.
				return SendArgs{Sweep: true}, &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{
					ByArgs:  true,
					ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled},
				}}
			},
			&river.PeriodicJobOpts{RunOnStart: true, ID: "email_sweep"}),
		m.digestJob(),
	}
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	m *Mailer
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.m.run(ctx)
}

// Timeout leaves a job its slice, the last batch (a slow server may take
// several SMTP timeouts) and its recording.
func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration {
	return w.m.JobTimeout()
}
