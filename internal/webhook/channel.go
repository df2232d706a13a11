package webhook

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
)

// Config tunes the webhook channel.
type Config struct {
	// PauseAfter is how long an outlet may fail every attempt before it
	// is paused (default 24h).
	PauseAfter time.Duration
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Connections is how many requests one job has in flight at once
	// (default 32).
	Connections int
	// MaxAttempts, RetryBase and RetryWindow make the retry schedule
	// (defaults 12, 30s, 24h).
	MaxAttempts int
	RetryBase   time.Duration
	RetryWindow time.Duration
	// BatchSize and Lease: see outbound.Config (BatchSize: default
	// DefaultBatchSize).
	BatchSize int
	Lease     time.Duration
	// Transport replaces the HTTP transport (tests); nil: a pooled one.
	Transport http.RoundTripper
}

// DefaultBatchSize is how many webhooks one claim takes: more than
// e-mail's 500, as a webhook costs less to send than a message, and each
// claim and record is a statement.
const DefaultBatchSize = 2000

// Hooks is the webhook channel: it queues deliveries at publication
// (PublishedTx) and sends them (outbound.Channel).
type Hooks struct {
	st     store.Store
	cfg    Config
	logger *slog.Logger
	client *http.Client
	runner *outbound.Runner
	now    func() time.Time

	// all and outlets cache the outlet list for publications and jobs,
	// for a second at most (another process's changes), and are dropped
	// by this process's.
	mu      sync.Mutex
	all     []store.WebhookOutlet // every outlet, paused ones included
	outlets []store.WebhookOutlet // the active ones
	readAt  time.Time
	paused  atomic.Int64 // outlets paused by this process
}

// New returns the webhook channel; register it with the outbound layer
// (OutboundConfig), then SetRunner.
func New(st store.Store, cfg Config, logger *slog.Logger) *Hooks {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.PauseAfter = cmp.Or(cfg.PauseAfter, 24*time.Hour)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.Connections = cmp.Or(cfg.Connections, 32)
	cfg.BatchSize = cmp.Or(cfg.BatchSize, DefaultBatchSize)
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 4 * cfg.Connections
		t.MaxIdleConnsPerHost = cfg.Connections
		tr = t
	}
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout,
		// A redirect is an answer: the outlet's URL is to be fixed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Hooks{st: st, cfg: cfg, logger: logger, client: client, now: time.Now}
}

// OutboundConfig is how the outbound layer sends webhooks.
func (h *Hooks) OutboundConfig() outbound.Config {
	return outbound.Config{MaxAttempts: h.cfg.MaxAttempts, RetryBase: h.cfg.RetryBase, RetryWindow: h.cfg.RetryWindow,
		BatchSize: h.cfg.BatchSize, Lease: h.cfg.Lease, Workers: 2,
		SendTimeout: 3 * h.cfg.Timeout}
}

// SetRunner gives the channel the runner that sends its deliveries.
func (h *Hooks) SetRunner(r *outbound.Runner) { h.runner = r }

// SetClock replaces time.Now for failure runs and pauses (tests).
func (h *Hooks) SetClock(now func() time.Time) { h.now = now }

// Name implements outbound.Channel.
func (h *Hooks) Name() string { return store.OutboundWebhook }

// Ready implements outbound.Channel: every process can post webhooks.
func (h *Hooks) Ready() bool { return true }

// Begin implements outbound.Channel.
func (h *Hooks) Begin(context.Context) outbound.Job {
	return &job{h: h, events: map[int64]*content{}}
}

// outlets returns the outlets by id and their signers, taken once per
// job from the process's list (read at most a second ago), and read
// again when a target is not among them (an outlet added since). The
// job's outlets are its own copies: it marks those it pauses, and those
// it knows failing.
func (j *job) outlets(ctx context.Context, targets []store.ClaimedDelivery) (map[string]*store.WebhookOutlet, map[int64]signer, error) {
	missing := j.byID == nil
	for i := 0; !missing && i < len(targets); i++ {
		_, ok := j.byID[targets[i].Target]
		missing = !ok
	}
	if !missing {
		return j.byID, j.signers, nil
	}
	// A second read in a job is for an outlet the first did not see.
	all, _, err := j.h.list(ctx, j.h.st, j.byID != nil)
	if err != nil {
		return nil, nil, err
	}
	j.byID, j.signers = make(map[string]*store.WebhookOutlet, len(all)), make(map[int64]signer, len(all))
	for i := range all {
		o := all[i]
		j.byID[strconv.FormatInt(o.ID, 10)] = &o
		if key, err := secretKey(o.Secret); err == nil {
			j.signers[o.ID] = signer{key: key}
		}
	}
	return j.byID, j.signers, nil
}

// forget drops the cached outlets after a change made here.
func (h *Hooks) forget() {
	h.mu.Lock()
	h.all, h.outlets, h.readAt = nil, nil, time.Time{}
	h.mu.Unlock()
}

// list returns every outlet and the active ones (not paused), read at
// most a second ago unless fresh. Callers must not change them.
func (h *Hooks) list(ctx context.Context, q store.Queries, fresh bool) (all, active []store.WebhookOutlet, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !fresh && h.all != nil && time.Since(h.readAt) < time.Second {
		return h.all, h.outlets, nil
	}
	all, err = q.WebhookList(ctx)
	if err != nil {
		return nil, nil, err
	}
	active = make([]store.WebhookOutlet, 0, len(all))
	for _, o := range all {
		if o.PausedAt == nil {
			active = append(active, o)
		}
	}
	if all == nil {
		all = []store.WebhookOutlet{}
	}
	h.all, h.outlets, h.readAt = all, active, time.Now()
	return all, active, nil
}

// active returns the outlets that are not paused, read at most a second
// ago.
func (h *Hooks) active(ctx context.Context, q store.Queries) ([]store.WebhookOutlet, error) {
	_, active, err := h.list(ctx, q, false)
	return active, err
}

// PublishedTx queues one delivery per active outlet the event matches,
// in the publication's transaction; it implements dispatch.PublishHook.
func (h *Hooks) PublishedTx(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time) error {
	outlets, err := h.active(ctx, tx)
	if err != nil || len(outlets) == 0 {
		return err
	}
	var rs []store.DeliveryRecipient
	for i := range outlets {
		if Matches(&outlets[i], ev) {
			rs = append(rs, store.DeliveryRecipient{Target: strconv.FormatInt(outlets[i].ID, 10), Reason: "outlet:" + outlets[i].Name})
		}
	}
	if len(rs) == 0 {
		return nil
	}
	n, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, Channel: store.OutboundWebhook,
		Recipients: rs, CreatedAt: now})
	if err != nil || n == 0 || h.runner == nil {
		return err
	}
	return h.runner.EnqueueTx(ctx, tx, ev.ID)
}

// job sends the batches of one job: events are read once per job.
type job struct {
	h      *Hooks
	events map[int64]*content
	// byID and signers are the outlets, read once per job (a job lasts
	// a slice of seconds); those it pauses are marked paused.
	byID    map[string]*store.WebhookOutlet
	signers map[int64]signer
}

func (j *job) End() {}

// prepared is one request to make.
type prepared struct {
	outlet *store.WebhookOutlet
	sign   signer
	body   []byte
	id     string
}

var errEventGone = errors.New("its event no longer exists")

// Send implements outbound.Job: it prepares each delivery's request, posts
// them over the pool, classifies the answers, and records each outlet's
// run of failures (pausing those failing for the whole window).
func (j *job) Send(ctx context.Context, b *outbound.Batch) ([]outbound.Outcome, error) {
	h := j.h
	outlets, signers, err := j.outlets(ctx, b.Deliveries)
	if err != nil {
		return nil, err
	}
	out := make([]outbound.Outcome, len(b.Deliveries))
	preps := make([]*prepared, len(b.Deliveries))
	for i := range b.Deliveries {
		d := &b.Deliveries[i]
		o := outlets[d.Target]
		switch {
		case o == nil:
			out[i] = outbound.Outcome{Result: outbound.Gone, Message: "the outlet was removed"}
			continue
		case o.PausedAt != nil:
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: "outlet paused: " + o.PauseReason}
			continue
		}
		c, err := j.content(ctx, d.EventID)
		if err != nil {
			return nil, err
		}
		if c.err != nil {
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: c.err.Error()}
			continue
		}
		at := c.ev.CreatedAt
		if c.ev.PublishedAt != nil {
			at = *c.ev.PublishedAt
		}
		body, err := body(o, TypePublished, at, c)
		if err != nil {
			out[i] = outbound.Outcome{Result: outbound.Permanent, Message: err.Error()}
			continue
		}
		preps[i] = &prepared{outlet: o, sign: signers[o.ID], body: body, id: "msg_cloche_" + strconv.FormatInt(d.ID, 10)}
	}

	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(h.cfg.Connections, len(b.Deliveries)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(preps) {
					return
				}
				if preps[i] == nil {
					continue
				}
				if ctx.Err() != nil || !b.MayStart() {
					out[i] = outbound.Outcome{Result: outbound.NotTried}
					continue
				}
				out[i] = h.post(ctx, preps[i])
			}
		}()
	}
	wg.Wait()
	for _, id := range h.recordRuns(ctx, preps, out) {
		if o := outlets[strconv.FormatInt(id, 10)]; o != nil {
			now := h.now()
			o.PausedAt, o.PauseReason = &now, "every attempt failed for "+h.cfg.PauseAfter.String()
		}
	}
	return out, nil
}

// failingKnown says whether the job knows outlet o to be failing: its
// run of failures was open when the job read it, or the job saw it fail
// since. Only such an outlet's success is written (it ends the run): an
// outlet that was not failing has no run to end. Another process may
// open a run after the job's read; the job's next read (a job lasts a
// slice of seconds) sees it, long before the pause window ends it.
func failingKnown(o *store.WebhookOutlet) bool { return o.FailingSince != nil }

// content reads what the webhooks of an event share, once per job.
func (j *job) content(ctx context.Context, eventID int64) (*content, error) {
	if c, ok := j.events[eventID]; ok {
		return c, nil
	}
	ev, err := j.h.st.EventGet(ctx, eventID)
	if errors.Is(err, store.ErrNotFound) {
		c := &content{err: errEventGone}
		j.events[eventID] = c
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("event %d: %w", eventID, err)
	}
	status := store.StatusNeutral
	if t, err := j.h.st.TypeGet(ctx, ev.Key); err == nil {
		status = t.StatusType
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("event %d: type %s: %w", eventID, ev.Key, err)
	}
	c := newContent(ev, status)
	j.events[eventID] = c
	return c, nil
}

// post makes one request and classifies its answer.
func (h *Hooks) post(ctx context.Context, p *prepared) outbound.Outcome {
	status, answer, retryAfter, err := h.do(ctx, p)
	if err != nil {
		return outbound.Outcome{Result: outbound.Temporary, Message: err.Error()}
	}
	o := outbound.Outcome{Code: status, Message: answer}
	switch {
	case status >= 200 && status < 300:
		o.Result = outbound.Sent
	case status == http.StatusTooManyRequests:
		o.Result, o.RetryAfter = outbound.Temporary, retryAfter
	case status == http.StatusRequestTimeout || status >= 500:
		o.Result = outbound.Temporary
	default:
		o.Result = outbound.Permanent
	}
	return o
}

// do posts p and returns the status, the start of the answer and the
// Retry-After asked for.
func (h *Hooks) do(ctx context.Context, p *prepared) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.outlet.URL, bytes.NewReader(p.body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Cloche-Webhooks")
	if p.outlet.Format == store.WebhookStandard {
		ts := time.Now().Unix()
		req.Header.Set("webhook-id", p.id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", p.sign.sign(p.id, ts, p.body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	// What is left is read so that the connection is used again.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	answer := strings.TrimSpace(strings.ToValidUTF8(string(head), ""))
	if answer == "" {
		answer = http.StatusText(resp.StatusCode)
	}
	return resp.StatusCode, answer, retryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
		return time.Duration(min(s, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 7*24*time.Hour)
	}
	return 0
}

// recordRuns records, per outlet, whether an attempt succeeded (which
// ends its run of failures) or all failed (which opens or carries on its
// run), and returns (and logs) the outlets it paused. A success is written
// only for an outlet known to be failing: with every outlet answering,
// a batch writes nothing.
func (h *Hooks) recordRuns(ctx context.Context, preps []*prepared, out []outbound.Outcome) []int64 {
	type run struct {
		outlet       *store.WebhookOutlet
		sent, failed bool
		lastErr      string
	}
	runs := map[int64]*run{}
	var order []int64
	for i, p := range preps {
		if p == nil || out[i].Result == outbound.NotTried {
			continue
		}
		id := p.outlet.ID
		r := runs[id]
		if r == nil {
			r = &run{outlet: p.outlet}
			runs[id] = r
			order = append(order, id)
		}
		if out[i].Result == outbound.Sent {
			r.sent = true
			continue
		}
		r.failed = true
		if out[i].Code != 0 {
			r.lastErr = fmt.Sprintf("%d %s", out[i].Code, out[i].Message)
		} else {
			r.lastErr = out[i].Message
		}
	}
	var ok, failed []int64
	errs := map[int64]string{}
	for _, id := range order {
		switch r := runs[id]; {
		case r.sent && failingKnown(r.outlet):
			ok = append(ok, id)
		case !r.sent && r.failed:
			failed = append(failed, id)
			errs[id] = r.lastErr
		}
	}
	if len(ok) == 0 && len(failed) == 0 {
		return nil
	}
	at := h.now()
	paused, err := h.st.WebhookAttempts(ctx, &store.WebhookAttemptsParams{At: at, Window: h.cfg.PauseAfter,
		OK: ok, Failed: failed, Errors: errs})
	if err != nil {
		h.logger.WarnContext(ctx, "webhook: record the outlets' failures", "err", err)
		return nil
	}
	// What the job knows of each outlet's run, for its next batches. The
	// outlets are the job's own copies (job.outlets), used by one batch at
	// a time.
	for _, id := range ok {
		runs[id].outlet.FailingSince = nil
	}
	for _, id := range failed {
		if o := runs[id].outlet; o.FailingSince == nil {
			o.FailingSince = &at
		}
	}
	// The process's list may have been read before: the next job must see
	// the runs opened or ended here.
	h.forget()
	for _, id := range paused {
		h.paused.Add(1)
		h.logger.WarnContext(ctx, "webhook: outlet paused: every attempt failed for the pause window",
			"outlet_id", id, "window", h.cfg.PauseAfter.String())
	}
	return paused
}
