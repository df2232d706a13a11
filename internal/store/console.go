package store

import "time"

// StatsParams asks for the operators' figures: Since is the start of the
// period counted ("today" in the console), Now the current time.
type StatsParams struct {
	Since time.Time
	Now   time.Time
}

// Stats are the figures of the console's dashboard.
type Stats struct {
	// PublishedEvents counts the events published at or after Since.
	PublishedEvents int
	// Reached sums, per channel, the users (addresses, for e-mail) reached
	// by the events published at or after Since: it is read from the
	// events' own counts, not from the notifications.
	Reached map[Channel]int
	// PendingEvents counts the events waiting to be published.
	PendingEvents int
	// OverdueEvents counts the pending events whose due time is at or
	// before Now.
	OverdueEvents int
	// OldestOverdue is the due time of the oldest of them: Now minus it is
	// how late the scheduler is. Nil when none is overdue.
	OldestOverdue *time.Time
	// NextDue is the earliest due time after Now of a pending event.
	NextDue *time.Time
	// Deliveries counts the e-mail deliveries in each state but sent
	// (queued, sending, retrying, failed); every state has a key.
	Deliveries map[DeliveryState]int
}

// UserSearchParams selects users of the directory. Zero fields do not
// filter. Results come by name, then id, an exact id match first.
type UserSearchParams struct {
	// Query matches a user whose id is Query, or whose name or e-mail
	// contains it (ASCII letters without regard to case).
	Query string
	// FollowerID keeps the users this user follows.
	FollowerID string
	Offset     int
	Limit      int // default 50, at most 500
}
