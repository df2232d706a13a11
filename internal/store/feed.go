package store

import (
	"context"
	"time"
)

// The feed is what the realtime hub reads to tell open streams about new
// and changed in-app notifications: the notifications themselves (ids only
// grow) and a log of changes made by their recipients (read, unread, read
// all, postponed), written in the same transaction as the change.

// ChangeKind says what a recipient did to a notification.
type ChangeKind string

// Change kinds.
const (
	ChangeRead       ChangeKind = "read"       // one notification marked read
	ChangeUnread     ChangeKind = "unread"     // one notification marked unread again
	ChangeReadAll    ChangeKind = "read_all"   // every visible unread one of a channel (or of all) marked read
	ChangePostponed  ChangeKind = "postponed"  // one notification hidden until At
	ChangeArchived   ChangeKind = "archived"   // one notification moved to the archive at At
	ChangeUnarchived ChangeKind = "unarchived" // one notification brought back to the inbox
)

// NotificationChange is one entry of the change log.
type NotificationChange struct {
	ID     int64      `json:"id"`
	UserID string     `json:"user_id"`
	Kind   ChangeKind `json:"kind"`
	// NotificationID is the notification changed; 0 for read_all.
	NotificationID int64 `json:"notification_id,omitempty"`
	// Channel is the notification's channel; for read_all the channel
	// marked, empty when every in-app channel was.
	Channel Channel `json:"channel,omitempty"`
	// At is the new read time (read), the time every notification visible
	// then was read (read_all), the time it shows again (postponed), or the
	// time of the change (unread).
	At time.Time `json:"at"`
	// Count is how many notifications read_all marked.
	Count     int       `json:"count,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// FeedRange names the notifications one fan-out created: those of EventID
// with ids from FirstID to LastID. Other events' notifications may have ids
// in the range too (on PostgreSQL, concurrent fan-outs interleave).
type FeedRange struct {
	EventID int64
	FirstID int64
	LastID  int64
}

// NotificationFeedParams selects in-app notifications for the feed, in id
// order: those in Ranges when given, else those with an id above AfterID.
// UserIDs, when given, keeps only those users' notifications.
type NotificationFeedParams struct {
	AfterID int64
	Ranges  []FeedRange
	UserIDs []string
	Limit   int // default 1000, at most 100,000
	// Expect, when known, is about how many rows the read brings (the
	// ids it spans): the result is sized for them at once.
	Expect int
}

// Capacity is the room to make for the rows of p, limit being its
// effective limit: what Expect or the ranges span, unless only some
// users' rows are asked for.
func (p *NotificationFeedParams) Capacity(limit int) int {
	if len(p.UserIDs) > 0 {
		return 0
	}
	n := int64(p.Expect)
	for _, r := range p.Ranges {
		n += r.LastID - r.FirstID + 1
	}
	return int(max(0, min(n, int64(limit))))
}

// NotificationSinceParams selects one user's notifications created after
// CreatedAfter with an id above AfterID (0: any), in id order. It is how a
// stream catches up after a reconnect: it reads the user's rows of the
// inbox index only, from CreatedAfter on.
type NotificationSinceParams struct {
	UserID       string
	AfterID      int64
	CreatedAfter time.Time
	Limit        int // default 1000, at most 100,000
}

// ChangeListParams selects change log entries in id order: those with the
// given IDs, or else those with an id above AfterID; of UserID only when it
// is given.
type ChangeListParams struct {
	IDs     []int64
	AfterID int64
	UserID  string
	Limit   int // default 1000, at most 100,000
}

// ChangePurgeParams bounds a purge of the change log.
type ChangePurgeParams struct {
	Before time.Time // entries created before this
	Limit  int
}

// FeedHead is where the feed stands: the greatest notification and change
// ids so far (0 when there are none).
type FeedHead struct {
	NotificationID int64
	ChangeID       int64
}

// FeedSignalKind is what a FeedSignal announces.
type FeedSignalKind int

// Feed signal kinds.
const (
	// SignalNotifications: a fan-out committed the notifications of Range.
	SignalNotifications FeedSignalKind = iota + 1
	// SignalChange: change ChangeID of UserID committed.
	SignalChange
	// SignalResync: notifications were written without a range (a bulk
	// insert); listeners should catch up from the database.
	SignalResync
)

// FeedSignal is one signal a writer sent on commit.
type FeedSignal struct {
	Kind     FeedSignalKind
	Range    FeedRange
	ChangeID int64
	UserID   string // of a change; empty when too long to be sent
}

// FeedListener is implemented by stores whose writers signal every commit
// that adds to the feed, to every process (PostgreSQL: NOTIFY inside the
// writing transaction, delivered on commit, in commit order). Stores
// without it assign feed ids in commit order (SQLite: a single writer), so
// that readers can poll for "anything after the last id I saw".
type FeedListener interface {
	// ListenFeed opens a connection of its own and calls fn with each
	// signal, in commit order, until ctx ends or the connection fails; it
	// then returns the error. ready is called once the connection listens:
	// signals of commits before that were not seen.
	ListenFeed(ctx context.Context, ready func(), fn func(FeedSignal)) error
}
