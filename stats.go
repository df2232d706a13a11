package cloche

import (
	"context"
	"errors"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Stats are the figures an operator looks at first.
type Stats struct {
	// Since is the start of today in the configured time zone; Now is when
	// the figures were read.
	Since time.Time `json:"since"`
	Now   time.Time `json:"now"`
	// PublishedEvents counts the events published today.
	PublishedEvents int `json:"published_events"`
	// Reached counts, per channel, the users (addresses, for e-mail)
	// reached by the events published today.
	Reached map[Channel]int `json:"reached"`
	// PendingEvents counts the scheduled events not yet published;
	// OverdueEvents those of them whose due time has passed.
	PendingEvents int `json:"pending_events"`
	OverdueEvents int `json:"overdue_events"`
	// OldestOverdue is the due time of the oldest overdue event, NextDue
	// the next due time to come; nil when there is none.
	OldestOverdue *time.Time `json:"oldest_overdue,omitempty"`
	NextDue       *time.Time `json:"next_due,omitempty"`
	// SchedulerLag is how late the oldest overdue event is (zero when none
	// is): a little under the poll interval when the workers keep up, more
	// when they are stopped, behind, or retrying a check_url.
	SchedulerLag time.Duration `json:"scheduler_lag"`
	// Deliveries counts the e-mails in each state but sent.
	Deliveries map[DeliveryState]int `json:"deliveries"`
}

// Stats reads today's figures: notifications by channel (from the events'
// counts), pending and overdue events, the scheduler's lag, and e-mails
// waiting or failed.
func (s *Service) Stats(ctx context.Context) (*Stats, error) {
	now := s.disp.Now()
	local := now.In(s.loc)
	since := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.loc)
	st, err := s.store.StatsGet(ctx, &store.StatsParams{Since: since, Now: now})
	if err != nil {
		return nil, wrap("stats", err)
	}
	out := &Stats{
		Since: since, Now: now,
		PublishedEvents: st.PublishedEvents, Reached: st.Reached,
		PendingEvents: st.PendingEvents, OverdueEvents: st.OverdueEvents,
		OldestOverdue: st.OldestOverdue, NextDue: st.NextDue,
		Deliveries: st.Deliveries,
	}
	if st.OldestOverdue != nil {
		out.SchedulerLag = max(now.Sub(*st.OldestOverdue), 0)
	}
	return out, nil
}

// UserQuery selects users of the directory; zero fields do not filter.
type UserQuery struct {
	// Text matches a user whose id is Text, or whose name or e-mail
	// contains it (ASCII letters in any case).
	Text string
	// FollowedBy keeps the users whose follower is this user.
	FollowedBy string
	Offset     int
	Limit      int // default 50, at most 500
}

// SearchUsers finds users by id, name or e-mail, an exact id first, then
// by name; each comes with their groups and companies.
func (s *Service) SearchUsers(ctx context.Context, q UserQuery) ([]User, error) {
	if q.Offset < 0 {
		return nil, store.Invalid("offset", "must not be negative")
	}
	if err := errors.Join(store.CheckText("q", q.Text), store.CheckID("followed_by", q.FollowedBy)); err != nil {
		return nil, err
	}
	us, err := s.store.UserSearch(ctx, &store.UserSearchParams{Query: q.Text, FollowerID: q.FollowedBy, Offset: q.Offset, Limit: q.Limit})
	return us, wrap("search users", err)
}
