package cloche

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// ActivityBucket is the activity of one hour or one day.
type ActivityBucket struct {
	// Start is the bucket's start in the configured time zone.
	Start time.Time `json:"start"`
	// Events counts the events published in it; Reached sums their
	// reach per channel (addresses, for e-mail).
	Events  int             `json:"events"`
	Reached map[Channel]int `json:"reached"`
	// Scheduled counts those that had a due time; MaxLag is the longest
	// one of them was published after it.
	Scheduled int           `json:"scheduled"`
	MaxLag    time.Duration `json:"max_lag"`
	// Emails counts the e-mails that ended in it: sent, failed (given
	// up) or skipped (read in the app meanwhile).
	Emails map[DeliveryState]int `json:"emails"`
}

// Total is the bucket's reach on every channel.
func (b ActivityBucket) Total() int {
	n := 0
	for _, v := range b.Reached {
		n += v
	}
	return n
}

// Activity is the console's history: the last 24 hours hour by hour and
// the last 30 days day by day, the current hour and day last.
type Activity struct {
	Now   time.Time        `json:"now"`
	Hours []ActivityBucket `json:"hours"`
	Days  []ActivityBucket `json:"days"`
}

// Activity reads the notifications sent per channel per hour for the last
// 24 hours and per day (in the configured time zone) for the last 30
// days, the e-mails' outcomes and the scheduler's lag in each. It reads
// the events' counts, not the notifications, and each hour but the last
// one or two only once (the store keeps the hours that have ended): its
// cost follows the number of hours shown, not the size of the history. An hour is counted in the day it starts in (in a
// zone whose offset is not whole hours, a day's edges move by the rest).
func (s *Service) Activity(ctx context.Context) (*Activity, error) {
	now := s.disp.Now()
	local := now.In(s.loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.loc)
	firstDay := today.AddDate(0, 0, -29)
	thisHour := now.UTC().Truncate(time.Hour)
	firstHour := thisHour.Add(-23 * time.Hour)
	since := firstDay
	if firstHour.Before(since) {
		since = firstHour
	}
	hours, err := s.store.ActivityGet(ctx, &store.ActivityParams{Since: since, Now: now})
	if err != nil {
		return nil, wrap("activity", err)
	}
	a := &Activity{Now: now}
	newBucket := func(start time.Time) ActivityBucket {
		return ActivityBucket{Start: start, Reached: map[Channel]int{}, Emails: map[DeliveryState]int{}}
	}
	for i := range 24 {
		a.Hours = append(a.Hours, newBucket(firstHour.Add(time.Duration(i)*time.Hour).In(s.loc)))
	}
	for i := range 30 {
		a.Days = append(a.Days, newBucket(firstDay.AddDate(0, 0, i)))
	}
	for _, h := range hours {
		if i := int(h.Hour.Sub(firstHour) / time.Hour); i >= 0 && i < 24 {
			a.Hours[i].add(h)
		}
		l := h.Hour.In(s.loc)
		day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc)
		// Days differ in length (DST): count calendar days, not hours.
		if i := daysBetween(firstDay, day); i >= 0 && i < 30 {
			a.Days[i].add(h)
		}
	}
	return a, nil
}

func (b *ActivityBucket) add(h store.ActivityHour) {
	b.Events += h.Events
	b.Scheduled += h.Scheduled
	b.MaxLag = max(b.MaxLag, h.MaxLag)
	for ch, n := range h.Reached {
		b.Reached[ch] += n
	}
	for st, n := range h.Emails {
		b.Emails[st] += n
	}
}

// daysBetween counts the calendar days from a to b, both midnights.
func daysBetween(a, b time.Time) int {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	ua := time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)
	ub := time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua) / (24 * time.Hour))
}

// EventRecipients is a page of the people an event reached, with their
// notifications and e-mails, and the event's totals.
type EventRecipients = store.EventRecipientsPage

// EventRecipient is one person an event reached.
type EventRecipient = store.EventRecipient

// Recipients lists the people event id reached, by user id after
// afterUserID, limit of them (default 50, at most 500).
func (s *Service) Recipients(ctx context.Context, id int64, afterUserID string, limit int) (*EventRecipients, error) {
	if err := store.CheckID("after", afterUserID); err != nil {
		return nil, err
	}
	if _, err := s.store.EventGet(ctx, id); err != nil {
		return nil, wrap(fmt.Sprintf("event %d", id), err)
	}
	p, err := s.store.EventRecipients(ctx, &store.EventRecipientsParams{EventID: id, AfterUserID: afterUserID, Limit: limit})
	return p, wrap(fmt.Sprintf("recipients of event %d", id), err)
}

// TypeReadRate is how much of a type's in-app notifications were read.
type TypeReadRate = store.TypeReadRate

// ReadRates counts, per type, the in-app notifications of the events
// published in the last days days and how many were read.
func (s *Service) ReadRates(ctx context.Context, days int) ([]TypeReadRate, error) {
	if days <= 0 {
		return nil, store.Invalid("days", "must be positive")
	}
	rs, err := s.store.ReadRates(ctx, s.disp.Now().AddDate(0, 0, -days))
	return rs, wrap("read rates", err)
}

// CountEvents counts the events Events would list, every page.
func (s *Service) CountEvents(ctx context.Context, f EventFilter) (int, error) {
	p, err := eventParams(f)
	if err != nil {
		return 0, err
	}
	n, err := s.store.EventCount(ctx, p)
	return n, wrap("events", err)
}

// CountDeliveries counts the deliveries Deliveries would list, every page.
func (s *Service) CountDeliveries(ctx context.Context, f DeliveryFilter) (int, error) {
	if f.State != "" && !f.State.Valid() {
		return 0, store.Invalid("status", "%q is not a delivery state (%s)", f.State, joinStrings(store.DeliveryStates))
	}
	n, err := s.store.DeliveryCount(ctx, &store.DeliveryListParams{Channel: f.Channel, EventID: f.EventID, State: f.State})
	return n, wrap("deliveries", err)
}

// CountUsers counts the users SearchUsers would find, every page.
func (s *Service) CountUsers(ctx context.Context, q UserQuery) (int, error) {
	if err := errors.Join(store.CheckText("q", q.Text), store.CheckID("followed_by", q.FollowedBy)); err != nil {
		return 0, err
	}
	n, err := s.store.UserCount(ctx, &store.UserSearchParams{Query: q.Text, FollowerID: q.FollowedBy})
	return n, wrap("count users", err)
}

// UserNames maps those of ids that are users of the directory to their
// names.
func (s *Service) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	m, err := s.store.UserNames(ctx, ids)
	return m, wrap("user names", err)
}

// CompanyNames maps those of ids that are companies of the directory to
// their names.
func (s *Service) CompanyNames(ctx context.Context, ids []string) (map[string]string, error) {
	m, err := s.store.CompanyNames(ctx, ids)
	return m, wrap("company names", err)
}

// CancelPending cancels those of the events ids that are still pending,
// all in one transaction, and returns the ids it cancelled; the others
// (published, cancelled or gone meanwhile) are left as they are.
func (s *Service) CancelPending(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) > 1000 {
		return nil, store.Invalid("ids", "names %d events; at most 1000 at once", len(ids))
	}
	var done []int64
	at := s.disp.Now()
	err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		done = done[:0]
		for _, id := range ids {
			err := tx.EventFinish(ctx, &store.EventFinishParams{ID: id, Status: store.EventCancelled, Reason: "cancelled by id", At: at})
			switch {
			case err == nil:
				done = append(done, id)
			case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("cancel events", err)
	}
	s.logger.InfoContext(ctx, "events cancelled", "ids", done)
	return done, nil
}
