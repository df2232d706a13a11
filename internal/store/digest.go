package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds digests (migration 00012): a person's e-mail frequency,
// for all their e-mail or one category, the e-mails held for the next
// digest, and the digests as rendered.

// DigestFrequency is how often a person receives their e-mail.
type DigestFrequency string

// The frequencies. Immediate (the default) sends each e-mail at once.
const (
	DigestImmediate DigestFrequency = "immediate"
	DigestHourly    DigestFrequency = "hourly"
	DigestDaily     DigestFrequency = "daily"
	DigestWeekly    DigestFrequency = "weekly"
)

// Valid tells whether f is a known frequency.
func (f DigestFrequency) Valid() bool {
	switch f {
	case DigestImmediate, DigestHourly, DigestDaily, DigestWeekly:
		return true
	}
	return false
}

// DigestSetting is one schedule of a person: for all their e-mail
// (Category empty) or one category. At is "HH:MM" (daily and weekly), Day
// a lower-case English weekday (weekly).
type DigestSetting struct {
	Category  string
	Frequency DigestFrequency
	At        string
	Day       string
	// NextAt is when the schedule falls due next; nil when nothing is to
	// be sent (an immediate schedule without held items).
	NextAt    *time.Time
	UpdatedAt time.Time
}

// ParseClock reads "HH:MM" (24-hour).
func ParseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	if ok && len(h) == 2 && len(m) == 2 {
		hour, err1 := strconv.Atoi(h)
		minute, err2 := strconv.Atoi(m)
		if err1 == nil && err2 == nil && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 {
			return hour, minute, nil
		}
	}
	return 0, 0, fmt.Errorf("%q is not a time of day as HH:MM (00:00 to 23:59)", s)
}

// Weekdays are the names a weekly digest's day takes.
var Weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// ParseWeekday reads a lower-case English weekday name.
func ParseWeekday(s string) (time.Weekday, error) {
	for i, d := range Weekdays {
		if d == s {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day of the week (monday … sunday)", s)
}

// Next is when the schedule falls due first strictly after after, in loc:
// the next full hour (hourly), the next At (daily), the next Day at At
// (weekly); the zero time for immediate or an invalid schedule. Clock
// times a daylight-saving change skips fall at the time Go normalises
// them to (an hour later); a repeated one, at its first occurrence.
func (s DigestSetting) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := after.In(loc)
	switch s.Frequency {
	case DigestHourly:
		// The next full hour on the person's clock (a zone may be off the
		// hour by 30 or 45 minutes).
		return t.Truncate(time.Minute).Add(time.Duration(60-t.Minute()) * time.Minute)
	case DigestDaily, DigestWeekly:
		h, m, err := ParseClock(s.At)
		if err != nil {
			return time.Time{}
		}
		want := -1
		if s.Frequency == DigestWeekly {
			d, err := ParseWeekday(s.Day)
			if err != nil {
				return time.Time{}
			}
			want = int(d)
		}
		for i := 0; i <= 8; i++ {
			c := time.Date(t.Year(), t.Month(), t.Day()+i, h, m, 0, 0, loc)
			if alt := c.Add(-time.Hour); alt.After(after) && alt.Hour() == h && alt.Minute() == m {
				c = alt // a time the clock goes through twice: the first
			}
			if c.After(after) && (want < 0 || int(c.Weekday()) == want) {
				return c
			}
		}
	}
	return time.Time{}
}

// DigestQueries are the digests' operations of a store.
type DigestQueries interface {
	UserTimeZoneQuery
	// DigestSettingList returns a person's schedules, by category (the
	// person's own, category "", first).
	DigestSettingList(ctx context.Context, userID string) ([]DigestSetting, error)
	// DigestSettingReplace replaces a person's schedules, binds the
	// e-mails they hold to the schedule now applying to their category,
	// and makes those whose schedule became immediate due at now. Run it
	// in a transaction. A person who does not exist is ErrNotFound.
	DigestSettingReplace(ctx context.Context, userID string, settings []DigestSetting, now time.Time) error
	// DigestHolders returns, among users (all when nil), those whose
	// e-mail of category is held for a digest, with the schedule
	// (digest_settings category: "" or category) it waits for.
	DigestHolders(ctx context.Context, category string, users []string) (map[string]string, error)
	// DigestItemInsertMany holds an event's e-mail for digests.
	DigestItemInsertMany(ctx context.Context, p *DigestItemInsertParams) (int, error)
	// DigestClaim takes up to Limit schedules due at Now, with their held
	// items (newest first). On PostgreSQL, the schedules stay locked
	// (others skip them) until the transaction ends: run it, and
	// DigestComplete, in one transaction.
	DigestClaim(ctx context.Context, p *DigestClaimParams) ([]DueDigest, error)
	// DigestComplete records what a run made of claimed schedules: the
	// digests (each with its e-mail delivery, queued), then deletes the
	// items they list and those left out, and moves each schedule to its
	// next time.
	DigestComplete(ctx context.Context, p *DigestCompleteParams) error
	// DigestGet returns a digest as rendered.
	DigestGet(ctx context.Context, id int64) (*Digest, error)
	// DigestItemCount counts a person's held items.
	DigestItemCount(ctx context.Context, userID string) (int, error)
	// DigestHeldList returns up to limit recipients of an event whose
	// e-mail is held for a digest (reason HoldDigest), by user, with the
	// time their schedule falls due (zero when it has none).
	DigestHeldList(ctx context.Context, eventID int64, limit int) ([]HeldDelivery, error)
	// DigestSchedulesNotDue returns the schedules (not immediate) of users
	// (everybody's when nil) that are not due at now, each with the
	// person's stored zone: what a change of zone moves.
	DigestSchedulesNotDue(ctx context.Context, users []string, now time.Time) ([]ZonedDigestSetting, error)
	// DigestReschedule gives schedules their next time, each only while
	// it is still not due at now and not immediate.
	DigestReschedule(ctx context.Context, moves []DigestMove, now time.Time) error
}

// ZonedDigestSetting is a person's schedule and their stored time zone
// ("": the organisation's).
type ZonedDigestSetting struct {
	UserID   string
	TimeZone string
	Setting  DigestSetting
}

// DigestMove is a schedule's new next time.
type DigestMove struct {
	UserID   string
	Category string
	NextAt   time.Time
}

// DigestItemInsertParams holds an event's e-mail for its recipients.
type DigestItemInsertParams struct {
	EventID   int64
	Category  string
	Items     []DigestHold
	CreatedAt time.Time
}

// DigestHold is one recipient whose e-mail is held.
type DigestHold struct {
	UserID   string
	Schedule string
	Reason   string
}

// DigestClaimParams selects due schedules.
type DigestClaimParams struct {
	Now   time.Time
	Limit int
}

// DueDigest is one person's schedule that fell due, with what it holds.
type DueDigest struct {
	UserID   string
	Setting  DigestSetting
	Name     string
	Email    string
	Locale   string
	TimeZone string
	// QuietHours is the JSON of the person's quiet hours; empty: none.
	QuietHours string
	Active     bool
	Items      []DigestEntry
}

// DigestEntry is one held e-mail, with its event as it is now.
type DigestEntry struct {
	ItemID      int64
	EventID     int64
	Key         string
	Title       string
	Body        string
	StatusType  StatusType
	ContextType string
	ContextID   string
	EventStatus EventStatus
	Until       *time.Time
	CreatedAt   time.Time
	// URL is what the notification leads to ("" when nothing).
	URL string
}

// DigestCompleteParams records a digest run.
type DigestCompleteParams struct {
	// Digests are the new digests, at most one per person and schedule
	// (UserID and Schedule): DigestComplete sets their ID and Delivery.
	Digests []Digest
	// Dropped are the ids of items left out (event cancelled, until
	// passed, nobody to send to).
	Dropped []int64
	// Next is each claimed schedule's next time (nil: none), by user and
	// schedule.
	Next []DigestNext
	At   time.Time
}

// DigestNext is a schedule's next due time.
type DigestNext struct {
	UserID   string
	Schedule string
	At       *time.Time
}

// Digest is one rendered digest and the items it lists.
type Digest struct {
	ID       int64
	UserID   string
	Schedule string
	Address  string
	Subject  string
	HTML     string
	Text     string
	Locale   string
	ItemIDs  []int64
	Created  time.Time
	// NotBefore holds its delivery until the person's quiet hours end
	// (hold reason HoldQuietHours); nil: it leaves at once.
	NotBefore *time.Time
	Delivery  int64 // its delivery's id, set by DigestComplete
}

// DigestID is the digest a delivery sends, or 0 for an event's e-mail: a
// digest's delivery has the digest's id negated as its event id.
func (d Delivery) DigestID() int64 {
	if d.EventID < 0 {
		return -d.EventID
	}
	return 0
}

// UserTimeZoneQuery reads a person's time zone (IANA name, empty when
// unset).
type UserTimeZoneQuery interface {
	UserTimeZone(ctx context.Context, userID string) (string, error)
}

// DigestFill gives each item of due its event's content from events (by
// event id, as DigestEntry with ItemID and CreatedAt unset); an item
// whose event is gone reads as cancelled. Both backends read the items,
// then their (few) events once, rather than each event with every item.
func DigestFill(due []DueDigest, events map[int64]DigestEntry) {
	for i := range due {
		for j := range due[i].Items {
			it := &due[i].Items[j]
			e, ok := events[it.EventID]
			if !ok {
				it.EventStatus = EventCancelled
				continue
			}
			e.ItemID, e.CreatedAt = it.ItemID, it.CreatedAt
			*it = e
		}
	}
}

// DigestEventIDs are the distinct event ids of due's items.
func DigestEventIDs(due []DueDigest) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, d := range due {
		for _, it := range d.Items {
			if !seen[it.EventID] {
				seen[it.EventID] = true
				out = append(out, it.EventID)
			}
		}
	}
	return out
}
