package store

import (
	"context"
	"slices"
	"time"
)

// ConsoleViews are the read models of the operators' console beyond the
// dashboard's figures: activity over time, who received an event, read
// rates, counts for paging, and names for ids. Every one is answered from
// an index (see migration 00017).
type ConsoleViews interface {
	// ActivityGet returns, for each UTC hour from p.Since that has any,
	// the events published in it (their reach per channel and the
	// scheduler's worst lag) and the e-mails that ended in it (sent,
	// failed, skipped). Hours come in order; an hour with nothing is left
	// out. An hour that ended SealAfter before p.Now is read once from
	// the events and deliveries, then kept in activity_hours: later calls
	// read it from there, so that the cost follows the hours asked, not
	// the rows of the history.
	ActivityGet(ctx context.Context, p *ActivityParams) ([]ActivityHour, error)
	// EventCount counts the events EventList would list without paging
	// (BeforeID, AfterID and Limit are ignored).
	EventCount(ctx context.Context, p *EventListParams) (int, error)
	// DeliveryCount counts the deliveries DeliveryList would list without
	// paging.
	DeliveryCount(ctx context.Context, p *DeliveryListParams) (int, error)
	// UserCount counts the users UserSearch would find without paging.
	UserCount(ctx context.Context, p *UserSearchParams) (int, error)
	// UserNames and CompanyNames map the ids that exist to their names.
	UserNames(ctx context.Context, ids []string) (map[string]string, error)
	CompanyNames(ctx context.Context, ids []string) (map[string]string, error)
	// EventRecipients lists the people an event reached (in the app or by
	// e-mail), by user id after p.AfterUserID, with their notifications
	// and e-mails, and the event's totals.
	EventRecipients(ctx context.Context, p *EventRecipientsParams) (*EventRecipientsPage, error)
	// ReadRates counts, per notification type, the in-app notifications of
	// the events published since p.Since and how many of them were read.
	ReadRates(ctx context.Context, since time.Time) ([]TypeReadRate, error)
}

// ActivityParams asks for the activity since Since (rounded down to the
// hour).
type ActivityParams struct {
	Since time.Time
	Now   time.Time
}

// SealAfter is how long after its end an hour of activity is kept as it
// is: a publication or an e-mail's outcome is committed well within it.
const SealAfter = 5 * time.Minute

// SealedBefore is the start of the first hour not yet kept at now.
func SealedBefore(now time.Time) time.Time {
	return now.Add(-SealAfter).UTC().Truncate(time.Hour)
}

// ActivityHour is one UTC hour of activity.
type ActivityHour struct {
	Hour time.Time // its start, UTC
	// Events counts the events published in the hour; Reached sums their
	// counts per channel (addresses, for e-mail).
	Events  int
	Reached map[Channel]int
	// Scheduled counts those of them that had a due time; MaxLag is the
	// longest any of them waited past it (zero when none did).
	Scheduled int
	MaxLag    time.Duration
	// Emails counts the deliveries that ended in the hour (sent, failed,
	// skipped), as they ended then.
	Emails map[DeliveryState]int
}

// EventRecipientsParams pages through an event's recipients.
type EventRecipientsParams struct {
	EventID     int64
	AfterUserID string
	Limit       int // default 50, at most 500
}

// EventRecipientsPage is a page of an event's recipients and its totals.
type EventRecipientsPage struct {
	Recipients []EventRecipient
	// People counts every person the event reached; InApp its in-app
	// notifications and Read those read; Emails its deliveries (to
	// people and to companies' own addresses) and Sent those sent.
	People, InApp, Read, Emails, Sent int
}

// EventRecipient is one person an event reached.
type EventRecipient struct {
	UserID string
	Name   string // empty when the person left the directory
	InApp  []RecipientNotification
	Emails []RecipientEmail
}

// RecipientNotification is one in-app notification of a recipient.
type RecipientNotification struct {
	ID        int64
	Channel   Channel
	VisibleAt time.Time
	ReadAt    *time.Time
	// ArchivedAt is when the person archived it; nil until archiving
	// exists in the store.
	ArchivedAt *time.Time
}

// RecipientEmail is one e-mail of a recipient.
type RecipientEmail struct {
	ID      int64
	Address string
	State   DeliveryState
	SentAt  *time.Time
}

// TypeReadRate is how much of a type's in-app notifications were read.
type TypeReadRate struct {
	Key           string
	Notifications int
	Read          int
}

// SortHours returns the hours of m that have any activity, in order.
func SortHours(m map[time.Time]*ActivityHour) []ActivityHour {
	out := make([]ActivityHour, 0, len(m))
	for _, h := range m {
		if h.Events > 0 || len(h.Emails) > 0 {
			out = append(out, *h)
		}
	}
	slices.SortFunc(out, func(a, b ActivityHour) int { return a.Hour.Compare(b.Hour) })
	return out
}

// EmptyHour is an hour without activity.
func EmptyHour(t time.Time) *ActivityHour {
	return &ActivityHour{Hour: t, Reached: map[Channel]int{}, Emails: map[DeliveryState]int{}}
}

// KeptHourColumns are activity_hours' columns, in the order of
// KeptHourRow: one reach column per channel of Channels, so that a new
// channel needs only its migration.
func KeptHourColumns() []string {
	cols := []string{"hour", "events", "scheduled", "max_lag_ms"}
	for _, ch := range Channels {
		cols = append(cols, "reached_"+string(ch))
	}
	return append(cols, "emails_sent", "emails_failed", "emails_skipped")
}

// KeptHourRow is a row of activity_hours being read: Dest gives the scan
// destinations, Hour the hour read.
type KeptHourRow struct {
	h                     ActivityHour
	lag                   int64
	reached               []int
	sent, failed, skipped int
}

// Dest returns the scan destinations of a row, in KeptHourColumns order.
func (r *KeptHourRow) Dest() []any {
	r.reached = make([]int, len(Channels))
	dst := []any{&r.h.Hour, &r.h.Events, &r.h.Scheduled, &r.lag}
	for i := range r.reached {
		dst = append(dst, &r.reached[i])
	}
	return append(dst, &r.sent, &r.failed, &r.skipped)
}

// Hour is the hour scanned.
func (r *KeptHourRow) Hour() *ActivityHour {
	out := EmptyHour(r.h.Hour.UTC())
	out.Events, out.Scheduled, out.MaxLag = r.h.Events, r.h.Scheduled, time.Duration(r.lag)*time.Millisecond
	for i, ch := range Channels {
		if r.reached[i] > 0 {
			out.Reached[ch] = r.reached[i]
		}
	}
	for st, n := range map[DeliveryState]int{DeliverySent: r.sent, DeliveryFailed: r.failed, DeliverySkipped: r.skipped} {
		if n > 0 {
			out.Emails[st] = n
		}
	}
	return out
}

// KeptHourValues are the values of a's row after its hour, in
// KeptHourColumns order.
func KeptHourValues(a *ActivityHour) []int64 {
	v := []int64{int64(a.Events), int64(a.Scheduled), a.MaxLag.Milliseconds()}
	for _, ch := range Channels {
		v = append(v, int64(a.Reached[ch]))
	}
	return append(v, int64(a.Emails[DeliverySent]), int64(a.Emails[DeliveryFailed]), int64(a.Emails[DeliverySkipped]))
}
