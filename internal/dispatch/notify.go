package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/directory"
	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/store"
)

// Limits on what a sender may send.
const (
	MaxTitleLen = 500
	MaxBodyLen  = 64 << 10
)

// Notification is the abstract notification a sender builds.
type Notification struct {
	Key      string     `json:"key"`
	Title    string     `json:"title"`
	Body     string     `json:"body"`
	DueAt    *time.Time `json:"due_datetime,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	Context  *Context   `json:"context,omitempty"`
	CheckURL string     `json:"check_url,omitempty"`
	// URL is what the notification leads to: the widget opens it when the
	// person clicks the item, the e-mail links to it.
	URL string `json:"url,omitempty"`
	// Actions are up to three buttons: each opens its URL, or has Cloche
	// POST to the host's Callback, signed (see internal/hostsign).
	Actions []Action `json:"actions,omitempty"`
	// Attachments go with every e-mail of the event (enDI attaches the
	// invoice PDF); in-app channels ignore them.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file sent with an e-mail: a name, a content type
// (application/octet-stream when empty) and the bytes.
type Attachment = store.Attachment

// Context is the object a notification is about, e.g. invoice 42. Events
// with a context can be cancelled by it, and a new event for the same
// context and key replaces a pending one.
type Context struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func (c *Context) String() string { return c.Type + ":" + c.ID }

// ParseContext reads "TYPE:ID".
func ParseContext(s string) (*Context, error) {
	typ, id, ok := strings.Cut(s, ":")
	typ, id = strings.TrimSpace(typ), strings.TrimSpace(id)
	if !ok || typ == "" || id == "" {
		return nil, store.Invalid("context", "%q is not TYPE:ID (e.g. invoice:42)", s)
	}
	return &Context{Type: typ, ID: id}, nil
}

// Options are the sender's choices beyond content and recipients.
type Options struct {
	// ForceChannel overrides the type's default channel.
	ForceChannel store.Channel
	// Idempotency, when set, makes a retry of the same request return the
	// first result instead of notifying again (idempotency.go).
	Idempotency *Idempotency

	// maxAttachmentSize bounds the attachments, all together; Validate
	// uses DefaultMaxAttachmentSize when it is zero.
	maxAttachmentSize int64
}

// Result tells what a notify did.
type Result struct {
	EventID int64             `json:"event_id"`
	Status  store.EventStatus `json:"status"`
	// Channel is the channel chosen (for a scheduled event: the one it
	// would use now; it is chosen again when it falls due).
	Channel store.Channel `json:"channel"`
	// Reached counts the users (addresses, for e-mail) reached per channel.
	// Empty for a scheduled event until it is published.
	Reached          map[store.Channel]int `json:"reached"`
	UnknownUserIDs   []string              `json:"unknown_user_ids,omitempty"`
	UnknownCompanyID string                `json:"unknown_company_id,omitempty"`
	// UnknownGroupNames are given group names that no user belongs to.
	UnknownGroupNames []string `json:"unknown_group_names,omitempty"`
	// Unreachable are recipients the directory holds who got nothing, and
	// why (at most store.MaxUnreachable; UnreachableMore counts the rest).
	// Empty for a scheduled event: its publication writes them in the
	// event's report.
	Unreachable     []store.Unreachable `json:"unreachable,omitempty"`
	UnreachableMore int                 `json:"unreachable_more,omitempty"`
	// Replaced are the pending events of the same context and key that
	// this one replaced.
	Replaced []int64 `json:"replaced,omitempty"`
	// Replayed is true when this is the stored result of an earlier call
	// with the same idempotency key: nothing was done this time.
	Replayed bool `json:"-"`
}

// Report is what res says of who got nothing.
func (res *Result) Report() *store.SendReport {
	return &store.SendReport{UnknownUserIDs: res.UnknownUserIDs, UnknownCompanyID: res.UnknownCompanyID,
		UnknownGroupNames: res.UnknownGroupNames, Unreachable: res.Unreachable, UnreachableMore: res.UnreachableMore}
}

// setReport copies what rep says into res.
func (res *Result) setReport(rep *store.SendReport) {
	if rep == nil {
		return
	}
	res.UnknownUserIDs, res.UnknownCompanyID, res.UnknownGroupNames = rep.UnknownUserIDs, rep.UnknownCompanyID, rep.UnknownGroupNames
	res.Unreachable, res.UnreachableMore = rep.Unreachable, rep.UnreachableMore
}

// Config tunes a Dispatcher.
type Config struct {
	FallbackGroups   []string
	CheckTimeout     time.Duration
	CheckMaxAttempts int
	// CheckRetryBase is the first wait after a failed check_url; it
	// doubles at each attempt, up to 5 minutes. Default 5s.
	CheckRetryBase time.Duration
	ReadRetention  time.Duration
	PurgeInterval  time.Duration
	// IdempotencyTTL is how long an idempotency key is remembered
	// (default 24h).
	IdempotencyTTL time.Duration
	// BatchCommits groups concurrent notifies into one transaction, each
	// in a savepoint of its own (batch.go). Worth it where commits are
	// serialised anyway: SQLite, and PostgreSQL, where the commits of
	// transactions that NOTIFY are serialised.
	BatchCommits bool
	// BatchLanes is how many shared transactions may be written at once
	// (default 1).
	BatchLanes int
	// BatchOptimistic runs a shared transaction's notifies without
	// savepoints first, and again in savepoints only when one fails
	// (batch.go): on PostgreSQL a savepoint costs two round trips.
	BatchOptimistic bool
	// MaxAttachmentSize bounds a notification's attachments, all together;
	// default DefaultMaxAttachmentSize.
	MaxAttachmentSize int64
	// Zone is the time zone of people who set none (setting time_zone),
	// for their quiet hours; UTC when nil.
	Zone *time.Location
	// SigningKey returns the key that signs calls to check_url
	// (internal/hostsign); nil: they go unsigned.
	SigningKey func(ctx context.Context) ([]byte, error)
	// PollInterval is how often RunDue looks for due events other
	// processes scheduled (due.go); default 250ms.
	PollInterval time.Duration
	// DuePublishers is how many batches of due events one process
	// publishes at once (default 1); DueBatch how many events a batch
	// holds (default 500).
	DuePublishers, DueBatch int
	// DueLocks claims a batch of due events by locking them in the
	// transaction that publishes them (store.EventLockDue) rather than by
	// writing a lease first (EventClaimBatch): one row write and one commit
	// fewer per event and batch where locks can be skipped (PostgreSQL).
	DueLocks bool
}

// Mailer sends the e-mails of an event. EnqueueTx runs inside the
// transaction that queued the event's deliveries, so that their sending
// starts if and only if it commits.
type Mailer interface {
	EnqueueTx(ctx context.Context, tx store.Tx, eventID int64) error
}

// PublishHook runs inside the transaction that publishes an event, once
// its fan-out is written: what else leaves with it (webhooks) is queued
// if and only if the publication commits.
type PublishHook interface {
	PublishedTx(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time) error
}

// Dispatcher sends notifications.
type Dispatcher struct {
	// hooks run at each publication (AddPublishHook).
	hooks  []PublishHook
	store  store.Store
	queue  jobs.Queue
	cfg    Config
	logger *slog.Logger
	http   *http.Client
	now    func() time.Time
	// observers are called after an event's fan-out commits (Observe).
	observers atomic.Pointer[[]func(ctx context.Context, ev *store.Event)]
	// batch groups notifies into shared commits when BatchCommits is set.
	batch *batcher
	// mailer starts the sending of an event's deliveries.
	mailer Mailer
	// pusher starts the sending of an event's pushes (push.go).
	pusher Mailer
	// types and contacts remember what planning read lately.
	types    typeCache
	contacts contactCache
	// rescued counts the events Sweep handed back (rescue.go).
	rescued atomic.Int64
	// dueWake wakes RunDue (due.go).
	dueWake chan struct{}
}

// AddPublishHook has h run at each publication; add hooks before the
// first Notify.
func (d *Dispatcher) AddPublishHook(h PublishHook) { d.hooks = append(d.hooks, h) }

// SetMailer gives the dispatcher what sends e-mail deliveries. Without
// one, deliveries are queued and nothing starts sending them.
func (d *Dispatcher) SetMailer(m Mailer) { d.mailer = m }

// SetPusher gives the dispatcher what starts the sending of pushes.
func (d *Dispatcher) SetPusher(p Mailer) { d.pusher = p }

// New returns a Dispatcher. Register its workers, build the queue, then
// call SetQueue before the first Notify.
func New(st store.Store, cfg Config, logger *slog.Logger) *Dispatcher {
	d := &Dispatcher{
		store:  st,
		cfg:    cfg,
		logger: logger,
		http:   &http.Client{Timeout: cfg.CheckTimeout},
		now:    time.Now,

		dueWake: make(chan struct{}, 1),
	}
	if cfg.BatchCommits {
		d.batch = newBatcher(st, maxBatch, cfg.BatchLanes, cfg.BatchOptimistic)
	}
	return d
}

// SetQueue gives the dispatcher the queue its jobs go to.
func (d *Dispatcher) SetQueue(q jobs.Queue) { d.queue = q }

// SetClock replaces time.Now (tests).
func (d *Dispatcher) SetClock(now func() time.Time) { d.now = now }

// Validate checks a request without touching the database. Every string
// is checked as store.CheckText says (no U+0000, valid UTF-8), ids and
// keys to store.MaxIDLen bytes, so that both backends take the same
// requests.
func Validate(n *Notification, r *store.Recipients, opts Options, now time.Time) error {
	n.Key = strings.TrimSpace(n.Key)
	n.Title = strings.TrimSpace(n.Title)
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if n.Key == "" {
		errs = append(errs, store.Invalid("key", "must not be empty"))
	} else {
		check(store.CheckID("key", n.Key))
	}
	switch {
	case n.Title == "":
		errs = append(errs, store.Invalid("title", "must not be empty"))
	case utf8.RuneCountInString(n.Title) > MaxTitleLen:
		errs = append(errs, store.Invalid("title", "is longer than %d characters", MaxTitleLen))
	default:
		check(store.CheckText("title", n.Title))
	}
	if len(n.Body) > MaxBodyLen {
		errs = append(errs, store.Invalid("body", "is longer than %d bytes", MaxBodyLen))
	} else {
		check(store.CheckText("body", n.Body))
	}
	if opts.ForceChannel != "" && !opts.ForceChannel.Valid() {
		errs = append(errs, store.Invalid("force_channel", "%q is not a channel (email, message, header_message, alert, push)", opts.ForceChannel))
	}
	r.AccountType = strings.TrimSpace(r.AccountType)
	if r.Empty() {
		errs = append(errs, store.Invalid("recipients", "name at least one of group_names, user_ids, company_id, follower_user_id, account_type"))
	}
	for i, g := range r.GroupNames {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, store.Invalid(fmt.Sprintf("group_names[%d]", i), "must not be empty"))
		}
	}
	for i, id := range r.UserIDs {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, store.Invalid(fmt.Sprintf("user_ids[%d]", i), "must not be empty"))
		}
	}
	errs = append(errs, store.CheckIDs("group_names", r.GroupNames)...)
	errs = append(errs, store.CheckIDs("user_ids", r.UserIDs)...)
	check(store.CheckID("company_id", r.CompanyID))
	check(store.CheckID("follower_user_id", r.FollowerUserID))
	check(store.CheckID("account_type", r.AccountType))
	if n.Until != nil {
		switch {
		case n.DueAt != nil && !n.Until.After(*n.DueAt):
			errs = append(errs, store.Invalid("until", "must be after due_datetime (%s)", n.DueAt.Format(time.RFC3339)))
		case !n.Until.After(now):
			errs = append(errs, store.Invalid("until", "is in the past (%s)", n.Until.Format(time.RFC3339)))
		}
	}
	if c := n.Context; c != nil {
		c.Type, c.ID = strings.TrimSpace(c.Type), strings.TrimSpace(c.ID)
		if c.Type == "" || c.ID == "" {
			errs = append(errs, store.Invalid("context", "needs both a type and an id"))
		}
		check(store.CheckID("context.type", c.Type))
		check(store.CheckID("context.id", c.ID))
	}
	if err := store.CheckText("check_url", n.CheckURL); err != nil {
		errs = append(errs, err)
	} else if n.CheckURL != "" {
		u, err := url.Parse(n.CheckURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, store.Invalid("check_url", "%q is not an absolute http(s) URL", n.CheckURL))
		}
	}
	// validateLinks trims in place: work on a copy of the caller's list.
	n.Actions = slices.Clone(n.Actions)
	errs = append(errs, validateLinks(n)...)
	// Validate fills in content types: work on a copy of the caller's list.
	n.Attachments = slices.Clone(n.Attachments)
	errs = append(errs, validateAttachments(n.Attachments, cmp.Or(opts.maxAttachmentSize, DefaultMaxAttachmentSize))...)
	return errors.Join(errs...)
}

// Notify records an event and, when it is due now, fans it out; otherwise it
// schedules its publication. Everything is one transaction (with
// BatchCommits, one savepoint of a transaction shared with concurrent
// notifies: all or nothing still holds for each).
func (d *Dispatcher) Notify(ctx context.Context, n Notification, r store.Recipients, opts Options) (*Result, error) {
	now := d.now()
	opts.maxAttachmentSize = d.cfg.MaxAttachmentSize
	if err := validateIdempotency(opts.Idempotency); err != nil {
		return nil, err
	}
	// With an idempotency key, validation waits until the key is claimed:
	// a retry must get the first answer even where the request would no
	// longer pass (an until that has passed since).
	if opts.Idempotency == nil {
		if err := Validate(&n, &r, opts, now); err != nil {
			return nil, err
		}
	}
	pre := d.prePlan(ctx, n, r, opts, now)
	var (
		res *Result
		ev  *store.Event
	)
	work := func(ctx context.Context, tx store.Tx) error {
		var err error
		res, ev, err = d.notifyTx(ctx, tx, n, r, opts, now, pre)
		return err
	}
	var err error
	if d.batch != nil {
		err = d.batch.do(ctx, work)
	} else {
		err = d.store.InTx(ctx, work)
	}
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if res.Replayed {
		d.logger.InfoContext(ctx, "notify replayed", "event_id", res.EventID, "idempotency_key", opts.Idempotency.Key)
		return res, nil
	}
	if ev.Status == store.EventPublished {
		d.afterPublish(ctx, ev)
	} else if ev.DueAt != nil && ev.CheckURL == "" {
		d.wakeDue(*ev.DueAt)
	}
	// The event itself is the record of what was sent (and the HTTP access
	// log of who asked): a line per notify is for debugging.
	d.logger.DebugContext(ctx, "notify", "event_id", ev.ID, "key", ev.Key, "channel", ev.Channel,
		"status", ev.Status, "reached", res.Reached)
	return res, nil
}

// plan is what a notify reads before its transaction: the channel, and
// for an immediate notify the routes to its recipients.
type plan struct {
	channel store.Channel
	routes  *directory.Routes // nil: plan them inside the transaction
}

// prePlan reads, outside the write transaction, what a notify needs to
// know: the type's channel and the recipients' routes. On SQLite, whose
// writes go one transaction at a time, this keeps reads off the writer and
// lets them run beside it. It is an optimisation only: reading a moment
// before writing is the same as notifying a moment earlier (a type deleted
// meanwhile still fails, on the event's foreign key), and on any error it
// returns nil and the transaction reads for itself, reporting the error
// where it would have.
func (d *Dispatcher) prePlan(ctx context.Context, n Notification, r store.Recipients, opts Options, now time.Time) *plan {
	if strings.TrimSpace(n.Key) == "" || (opts.ForceChannel != "" && !opts.ForceChannel.Valid()) {
		return nil
	}
	ch, err := d.types.channel(ctx, d.store, strings.TrimSpace(n.Key))
	if err != nil {
		return nil
	}
	if opts.ForceChannel != "" {
		ch = opts.ForceChannel
	}
	p := &plan{channel: ch}
	if n.DueAt == nil || !n.DueAt.After(now) {
		q := plannerQueries{Queries: d.store, contacts: &d.contacts}
		if p.routes, err = directory.Plan(ctx, q, r, ch, d.cfg.FallbackGroups); err != nil {
			p.routes = nil
		}
	}
	return p
}

// notifyTx is Notify's work inside tx. pre, when not nil, is what
// prePlan read.
func (d *Dispatcher) notifyTx(ctx context.Context, tx store.Tx, n Notification, r store.Recipients, opts Options, now time.Time, pre *plan) (*Result, *store.Event, error) {
	if opts.Idempotency != nil {
		prev, err := d.claimIdempotency(ctx, tx, opts.Idempotency, now)
		if err != nil || prev != nil {
			return prev, nil, err
		}
		if err := Validate(&n, &r, opts, now); err != nil {
			return nil, nil, err
		}
	}
	scheduled := n.DueAt != nil && n.DueAt.After(now)
	ev := &store.Event{
		Key:          n.Key,
		Title:        n.Title,
		Body:         n.Body,
		DueAt:        n.DueAt,
		Until:        n.Until,
		CheckURL:     n.CheckURL,
		URL:          n.URL,
		Actions:      n.Actions,
		ForceChannel: opts.ForceChannel,
		Recipients:   r,
		Status:       store.EventPending,
		CreatedAt:    now,
	}
	if n.Context != nil {
		ev.ContextType, ev.ContextID = n.Context.Type, n.Context.ID
	}
	if !scheduled {
		// Published by this transaction: inserted so, its outcome written
		// when the fan-out is done (publishTx), so that the row's indexed
		// columns are written once.
		ev.Status = store.EventPublished
		ev.PublishedAt = &now
	}
	res := &Result{Reached: map[store.Channel]int{}}
	var (
		routes *directory.Routes
		err    error
	)
	if pre != nil {
		ev.Channel, routes = pre.channel, pre.routes
	} else if ev.Channel, err = chooseChannel(ctx, tx, ev.Key, ev.ForceChannel); err != nil {
		return nil, nil, err
	}
	if scheduled {
		// What is unknown now is reported now, and kept on the event
		// until its publication says what it found.
		if ev.Report, err = directory.Unknown(ctx, tx, r); err != nil {
			return nil, nil, err
		}
		res.setReport(ev.Report)
	}
	if err := tx.EventInsert(ctx, ev); err != nil {
		return nil, nil, err
	}
	if err := tx.AttachmentInsertMany(ctx, ev.ID, n.Attachments); err != nil {
		return nil, nil, err
	}
	if ev.ContextType != "" {
		res.Replaced, err = tx.EventCancelPending(ctx, &store.EventCancelPendingParams{
			ContextType: ev.ContextType, ContextID: ev.ContextID, Key: ev.Key, ExceptID: ev.ID,
			Reason: fmt.Sprintf("replaced by event %d", ev.ID), At: now,
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if scheduled && ev.CheckURL != "" {
		// Only an event that asks its host needs a job of its own; the
		// others go in batches (due.go).
		if err := d.queue.InsertTx(ctx, tx, PublishArgs{EventID: ev.ID}, &river.InsertOpts{
			ScheduledAt: *n.DueAt,
			MaxAttempts: d.cfg.CheckMaxAttempts,
		}); err != nil {
			return nil, nil, err
		}
	} else if !scheduled {
		out, err := d.publishTx(ctx, tx, ev, now, routes)
		if err != nil {
			return nil, nil, err
		}
		res.Reached = out.Counts
		res.setReport(out.Report)
	}
	res.EventID, res.Status, res.Channel = ev.ID, ev.Status, ev.Channel
	if opts.Idempotency != nil {
		if err := d.completeIdempotency(ctx, tx, opts.Idempotency, res); err != nil {
			return nil, nil, err
		}
	}
	return res, ev, nil
}

// chooseChannel applies the rule: the forced channel, else the type's
// default. An unknown key is an error, never a fallback.
func chooseChannel(ctx context.Context, q store.Queries, key string, force store.Channel) (store.Channel, error) {
	t, err := q.TypeGet(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.Invalid("key", "unknown notification type %q", key).
			WithHint(fmt.Sprintf("list types with `cloche types list`, create one with `cloche types set %s --default-channel message`", key))
	} else if err != nil {
		return "", err
	}
	if force != "" {
		return force, nil
	}
	return t.DefaultChannel, nil
}

type publication struct {
	Counts map[store.Channel]int
	Report *store.SendReport
}

// publishTx resolves the recipients of a pending event (unless rt has
// them already), writes its notifications or deliveries and marks it
// published, inside tx. The status change is conditional on the event still
// being pending, so that however many workers try, it is published once.
// An event already published is one this transaction inserted so (an
// immediate notify): only its outcome is written.
func (d *Dispatcher) publishTx(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time, rt *directory.Routes) (*publication, error) {
	if rt == nil {
		var err error
		if rt, err = directory.Plan(ctx, tx, ev.Recipients, ev.Channel, d.cfg.FallbackGroups); err != nil {
			return nil, err
		}
	}
	inserted := ev.Status == store.EventPublished
	out := &publication{Counts: map[store.Channel]int{}}
	var noEmail []string
	plans, err := planChannels(ctx, tx, ev)
	if err != nil {
		return nil, err
	}
	plans, also := joinInApp(plans)
	reason := ""
	if rt.FollowerFallback {
		reason = "follower_user_id has no active follower: sent to the fallback groups"
	}
	finish := &store.EventFinishParams{ID: ev.ID, Status: store.EventPublished, Reason: reason, Channel: ev.Channel,
		At: now, InsertedPublished: inserted}
	// An immediate notify to one in-app channel (the common case) writes
	// its outcome with its fan-out, in one statement: its report, which
	// the fan-out does not change, is read first.
	withFanOut := inserted && len(plans) == 1 && plans[0].channel != store.ChannelEmail && len(also.filters) == 0
	if withFanOut {
		if out.Report, err = directory.Report(ctx, tx, rt, nil); err != nil {
			return nil, err
		}
		finish.Report = out.Report
	}
	inApp := rt
	for _, p := range plans {
		if p.channel == store.ChannelEmail {
			var missing []string
			if out.Counts[p.channel], missing, err = d.fanOutEmail(ctx, tx, ev, now, rt, p.filter); err != nil {
				return nil, err
			}
			if p.channel == ev.Channel {
				// Whom e-mail is the type's channel for and who have no
				// address; e-mail a preference adds is no loss to them.
				noEmail = missing
			}
			continue
		}
		if inApp.CompanyAddress != nil {
			// Planned for e-mail, the company is its address: in the
			// app, it is its members.
			if inApp, err = directory.Plan(ctx, tx, ev.Recipients, p.channel, d.cfg.FallbackGroups); err != nil {
				return nil, err
			}
		}
		fp := &store.NotificationFanOutParams{
			EventID: ev.ID, Channel: p.channel, GroupNames: inApp.GroupNames, UserIDs: inApp.UserIDs,
			CompanyID: inApp.CompanyID, AccountType: inApp.AccountType, CreatedAt: now, ExpiresAt: ev.Until, Prefs: p.filter,
		}
		if p.channel == also.with {
			fp.Also = also.filters
		}
		if withFanOut {
			fp.Finish = finish
		}
		counts, err := tx.NotificationFanOutChannels(ctx, fp)
		if err != nil {
			return nil, err
		}
		out.Counts[p.channel] = counts[p.channel]
		for _, a := range fp.Also {
			out.Counts[a.Channel] = counts[a.Channel]
		}
		if p.channel == store.ChannelPush && counts[p.channel] > 0 {
			if err := d.queuePush(ctx, tx, ev, now); err != nil {
				return nil, err
			}
		}
	}
	if out.Counts[store.ChannelEmail] > 0 {
		if err := d.holdEmail(ctx, tx, ev, now); err != nil {
			return nil, err
		}
	}
	if !withFanOut {
		if out.Report, err = directory.Report(ctx, tx, rt, noEmail); err != nil {
			return nil, err
		}
		finish.Counts, finish.Report = out.Counts, out.Report
		if err := tx.EventFinish(ctx, finish); err != nil {
			return nil, err
		}
	}
	ev.Status, ev.Counts, ev.StatusReason, ev.Report = store.EventPublished, out.Counts, reason, out.Report
	t := now
	ev.PublishedAt = &t
	for _, h := range d.hooks {
		if err := h.PublishedTx(ctx, tx, ev, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Now is the dispatcher's clock.
func (d *Dispatcher) Now() time.Time { return d.now() }
