package email

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cloche/cloche/internal/quiet"
	"github.com/cloche/cloche/internal/store"
)

// DigestArgs is the periodic job that sends the digests that fell due.
type DigestArgs struct{}

// Kind implements river.JobArgs.
func (DigestArgs) Kind() string { return "cloche.email_digests" }

type digestWorker struct {
	river.WorkerDefaults[DigestArgs]
	m *Mailer
}

func (w *digestWorker) Work(ctx context.Context, _ *river.Job[DigestArgs]) error {
	_, err := w.m.RunDigests(ctx)
	return err
}

// digestJob is the leader's periodic job that runs RunDigests.
func (m *Mailer) digestJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(m.cfg.DigestInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return DigestArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{
				ByArgs:  true,
				ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled},
			}}
		},
		&river.PeriodicJobOpts{RunOnStart: true, ID: "email_digests"})
}

// DigestRun is what one RunDigests did.
type DigestRun struct {
	Schedules int // schedules that fell due
	Digests   int // digests queued
	Items     int // items they list
	Dropped   int // items left out (event cancelled, until passed, nobody to send to)
}

// RunDigests sends every digest due now: batch after batch, one
// transaction claims due schedules (others skip them), renders one
// message per schedule listing its held items newest first, queues it as
// an e-mail delivery, marks the items and moves the schedule to its next
// time, so that nothing is sent twice and nothing is lost whoever runs it.
// An empty digest is never sent.
func (m *Mailer) RunDigests(ctx context.Context) (DigestRun, error) {
	var total DigestRun
	cache := NewDigestCache()
	for {
		var run DigestRun
		limit := m.cfg.BatchSize
		err := m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			run = DigestRun{}
			now := m.now()
			due, err := tx.DigestClaim(ctx, &store.DigestClaimParams{Now: now, Limit: limit})
			if err != nil {
				return err
			}
			run.Schedules = len(due)
			if len(due) == 0 {
				return nil
			}
			p, err := m.buildDigests(due, now, cache)
			if err != nil {
				return err
			}
			if err := tx.DigestComplete(ctx, p); err != nil {
				return err
			}
			run.Digests, run.Dropped = len(p.Digests), len(p.Dropped)
			for _, d := range p.Digests {
				run.Items += len(d.ItemIDs)
			}
			if len(p.Digests) > 0 && m.queue != nil {
				return m.runner.EnqueueTx(ctx, tx, 0)
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("email: digests: %w", err)
		}
		total.Schedules += run.Schedules
		total.Digests += run.Digests
		total.Items += run.Items
		total.Dropped += run.Dropped
		if run.Schedules < limit || ctx.Err() != nil {
			break
		}
	}
	if total.Schedules > 0 {
		m.logger.InfoContext(ctx, "digests", "schedules", total.Schedules, "digests", total.Digests, "items", total.Items, "dropped", total.Dropped)
	}
	return total, nil
}

// buildDigests renders the digests of due schedules.
func (m *Mailer) buildDigests(due []store.DueDigest, now time.Time, cache *DigestCache) (*store.DigestCompleteParams, error) {
	p := &store.DigestCompleteParams{At: now}
	zones := map[string]*time.Location{}
	for i := range due {
		d := &due[i]
		loc, ok := zones[d.TimeZone]
		if !ok {
			loc = m.zone(d.TimeZone)
			zones[d.TimeZone] = loc
		}
		var next *time.Time
		if t := d.Setting.Next(now, loc); !t.IsZero() {
			next = &t
		}
		p.Next = append(p.Next, store.DigestNext{UserID: d.UserID, Schedule: d.Setting.Category, At: next})
		// Held, like any e-mail, until the person's quiet hours end
		// (mandatory types never wait in a digest).
		var notBefore *time.Time
		if d.QuietHours != "" {
			if w, err := quietWindow(d.QuietHours); err != nil {
				m.logger.Warn("digests: quiet hours ignored", "user_id", d.UserID, "err", err)
			} else if t := quiet.NextAllowed(now, loc, w); t.After(now) {
				notBefore = &t
			}
		}
		keep := d.Items[:0:0]
		for _, it := range d.Items {
			if it.EventStatus == store.EventCancelled || (it.Until != nil && !it.Until.After(now)) || !d.Active || d.Email == "" {
				p.Dropped = append(p.Dropped, it.ItemID)
				continue
			}
			keep = append(keep, it)
		}
		if len(keep) == 0 {
			continue
		}
		msg, err := m.tmpl.RenderDigest(&DigestContent{Frequency: d.Setting.Frequency, Items: keep, Location: loc},
			Recipient{Name: d.Name, Address: d.Email, Locale: d.Locale}, cache)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(keep))
		for j, it := range keep {
			ids[j] = it.ItemID
		}
		p.Digests = append(p.Digests, store.Digest{
			UserID: d.UserID, Schedule: d.Setting.Category, Address: d.Email, Subject: msg.Subject,
			HTML: msg.HTML, Text: msg.Text, Locale: msg.Locale, ItemIDs: ids, Created: now, NotBefore: notBefore,
		})
	}
	return p, nil
}

// quietWindow reads a person's stored quiet hours.
func quietWindow(stored string) (*quiet.Window, error) {
	var h quiet.Hours
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return nil, fmt.Errorf("quiet hours %q: %w", stored, err)
	}
	w, err := h.Check("quiet_hours")
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// zone is the location of a person's zone name: the organisation's
// (Config.Zone) when they set none, or when the name is no longer known.
func (m *Mailer) zone(name string) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
		m.logger.Warn("digests: unknown time zone, the organisation's used", "time_zone", name)
	}
	if m.cfg.Zone == nil {
		return time.UTC
	}
	return m.cfg.Zone
}

// loadDigest reads a digest's message, for its delivery.
func (m *Mailer) loadDigest(ctx context.Context, id int64) (*eventContent, error) {
	d, err := m.st.DigestGet(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("digest %d: %w", id, err)
	}
	return &eventContent{msg: &Message{Subject: d.Subject, HTML: d.HTML, Text: d.Text, Locale: d.Locale}}, nil
}
