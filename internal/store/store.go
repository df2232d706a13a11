package store

import (
	"context"
	"time"
)

// Store is a database holding Cloche's state. Its Queries run outside any
// transaction; InTx runs fn inside one, committing when fn returns nil.
//
// Every change that spans rows goes through InTx: a directory import, a
// notify (event, notifications, deliveries and jobs), a publication.
type Store interface {
	Queries

	// InTx runs fn in one read-write transaction. fn must do all its
	// database work through tx: on SQLite, with its single writer
	// connection, a query on the Store itself would wait for fn to end.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// ReadTx runs fn in one read-only transaction: its reads all see the
	// same snapshot (and, on SQLite, one connection, whose page cache a
	// write elsewhere empties once rather than on every reader). fn must
	// not write.
	ReadTx(ctx context.Context, fn func(ctx context.Context, q Queries) error) error

	// Ping checks the database can be reached.
	Ping(ctx context.Context) error
	// Backend names the implementation: "sqlite" or "postgres".
	Backend() string
	// Close releases every connection.
	Close() error
}

// Tx is the view of a store inside a transaction.
type Tx interface {
	Queries

	// Savepoint runs fn inside a savepoint of the transaction: when fn
	// fails, its work is undone and the transaction goes on, so that
	// several independent changes can share one commit.
	Savepoint(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Queries are the operations every backend implements, in the noun-verb
// style, each taking a context and, where there are several inputs, a
// params struct.
type Queries interface {
	// Directory.
	UserUpsert(ctx context.Context, u *User) error
	UserGet(ctx context.Context, id string) (*User, error)
	UserDelete(ctx context.Context, id string) error
	// UserContacts returns the users among ids that exist, active or not.
	UserContacts(ctx context.Context, ids []string) ([]Contact, error)
	// GroupContacts returns the active members of any of the groups, each once.
	GroupContacts(ctx context.Context, groups []string) ([]Contact, error)
	// GroupsActive tells, for each of the groups that has members,
	// whether one of them is active; a group without members is not in
	// the map. It stops at the first member found: cheap for any size.
	GroupsActive(ctx context.Context, groups []string) (map[string]bool, error)
	// CompanyContacts returns the active members of the company.
	CompanyContacts(ctx context.Context, companyID string) ([]Contact, error)
	CompanyUpsert(ctx context.Context, c *Company) error
	CompanyGet(ctx context.Context, id string) (*Company, error)
	CompanyDelete(ctx context.Context, id string) error

	// Notification types.
	TypeUpsert(ctx context.Context, t *NotificationType) error
	TypeGet(ctx context.Context, key string) (*NotificationType, error)
	TypeList(ctx context.Context) ([]NotificationType, error)
	// TypeDelete refuses with ErrInUse a type that events use.
	TypeDelete(ctx context.Context, key string) error

	// Events.
	EventInsert(ctx context.Context, e *Event) error // sets ID, CreatedAt, UpdatedAt
	EventGet(ctx context.Context, id int64) (*Event, error)
	// EventGetMany returns the events of ids that exist, in no order.
	EventGetMany(ctx context.Context, ids []int64) ([]Event, error)
	EventList(ctx context.Context, p *EventListParams) ([]Event, error)
	// EventFinish moves a pending event to another status; it returns
	// ErrConflict if the event is no longer pending, so that an event is
	// published at most once whoever tries.
	EventFinish(ctx context.Context, p *EventFinishParams) error
	// EventFinishMany is EventFinish of each of ps in one go, and returns
	// the ids it finished: an event no longer pending (or that does not
	// exist) is left alone, not an error.
	EventFinishMany(ctx context.Context, ps []EventFinishParams) ([]int64, error)
	// EventPublishMany publishes several events in one go (a batch of due
	// events): of those still pending, each is fanned out as
	// NotificationFanOut would (no preference filter) and finished as
	// published with its counts, reason and report, as EventFinish would.
	// It returns how many notifications each of those got, by event id;
	// an event missing from the map is no longer pending (or does not
	// exist), and nothing was written for it.
	EventPublishMany(ctx context.Context, p *EventPublishManyParams) (map[int64]int, error)
	// EventCancelPending cancels the pending events of a context (and key,
	// when given) and returns their ids.
	EventCancelPending(ctx context.Context, p *EventCancelPendingParams) ([]int64, error)
	// Claims on scheduled events by publish jobs (claims.go).
	EventClaims

	// In-app notifications.
	NotificationInsertMany(ctx context.Context, p *NotificationInsertManyParams) (int, error)
	// NotificationFanOut creates one notification for each active user
	// reached by the routes (a member of any of GroupNames, one of UserIDs,
	// a member of CompanyID if that company is active, or one reached by
	// AccountType), each user once,
	// in the database itself, and returns how many.
	NotificationFanOut(ctx context.Context, p *NotificationFanOutParams) (int, error)
	// NotificationFanOutChannels is NotificationFanOut with p.Also: the
	// main channel and the others in one pass over the recipients (each
	// person's rows side by side in the inbox index), counted per channel.
	NotificationFanOutChannels(ctx context.Context, p *NotificationFanOutParams) (map[Channel]int, error)
	NotificationList(ctx context.Context, p *NotificationListParams) ([]InboxItem, error)
	NotificationGet(ctx context.Context, userID string, id int64) (*InboxItem, error)
	// NotificationCountUnread counts unread, visible, unexpired notifications per channel.
	NotificationCountUnread(ctx context.Context, userID string, now time.Time) (map[Channel]int, error)
	// NotificationSetRead marks one notification read (at) or unread (nil).
	NotificationSetRead(ctx context.Context, p *NotificationSetReadParams) error
	NotificationReadAll(ctx context.Context, p *NotificationReadAllParams) (int, error)
	NotificationPostpone(ctx context.Context, p *NotificationPostponeParams) error
	// NotificationSetArchived archives one notification (at) or brings it
	// back to the inbox (nil), and logs the change (archived, unarchived)
	// in the same transaction. An archived notification is listed only
	// with Archived, and counted as unread nowhere.
	NotificationSetArchived(ctx context.Context, p *NotificationSetArchivedParams) error
	// NotificationPurge deletes read notifications read before ReadBefore and
	// notifications that expired before ExpiredBefore, at most Limit of them.
	NotificationPurge(ctx context.Context, p *NotificationPurgeParams) (int, error)

	// E-mail deliveries.
	DeliveryInsertMany(ctx context.Context, p *DeliveryInsertManyParams) (int, error)
	DeliveryList(ctx context.Context, p *DeliveryListParams) ([]Delivery, error)

	// Console.
	// StatsGet returns the dashboard's figures (see Stats).
	StatsGet(ctx context.Context, p *StatsParams) (*Stats, error)
	// UserSearch finds users, with their groups and companies.
	UserSearch(ctx context.Context, p *UserSearchParams) ([]User, error)
	ConsoleViews
	DeliveryGet(ctx context.Context, id int64) (*Delivery, error)
	// DeliveryClaim takes up to Limit deliveries that are due (queued
	// and past their not-before time, if any; retrying and past their next attempt time; sending and past their
	// lease), moves them to sending under Owner until LeaseUntil, counts
	// the attempt and gives each a Message-ID if it has none. Two claims
	// never take the same delivery while its lease runs. First, a due
	// delivery held unless read whose in-app notification of the event
	// was read is marked skipped (SkipReasonRead), never claimed.
	DeliveryClaim(ctx context.Context, p *DeliveryClaimParams) ([]ClaimedDelivery, error)
	// DeliveryRecord writes the outcomes of deliveries claimed by Owner,
	// all in one statement, and returns how many it changed: a delivery no
	// longer held by Owner (its lease lapsed and another took it) is left
	// alone.
	DeliveryRecord(ctx context.Context, p *DeliveryRecordParams) (int, error)
	// DeliveryRetry queues failed deliveries again (and brings retrying
	// ones forward), resetting their attempt count: one by ID (ErrNotFound
	// if there is none, ErrConflict if it is queued, sending or sent), or,
	// with ID zero, every failed one (of EventID, when given). It returns
	// how many it queued.
	DeliveryRetry(ctx context.Context, p *DeliveryRetryParams) (int, error)
	// DeliveryNextDue is the earliest next attempt time of the retrying
	// deliveries or not-before time of the held ones, or nil when there
	// are none.
	// Only the deliveries of channel (empty: email).
	DeliveryNextDue(ctx context.Context, channel string) (*time.Time, error)
	// DeliveryRenew extends the leases of the deliveries still being sent
	// under one of Owners (their claims are alive) to LeaseUntil, in one
	// statement, and returns how many it extended.
	DeliveryRenew(ctx context.Context, p *DeliveryRenewParams) (int, error)
	// DeliveryNextLapse is the earliest lease end of the deliveries being
	// sent under an owner not in exclude (another process's claims), or
	// nil when there are none: when a delivery held by a process that died
	// may be taken again.
	// Only the deliveries of channel (empty: email).
	DeliveryNextLapse(ctx context.Context, channel string, exclude []string) (*time.Time, error)

	// Attachments of an event, sent with its e-mails.
	AttachmentInsertMany(ctx context.Context, eventID int64, atts []Attachment) error
	AttachmentList(ctx context.Context, eventID int64) ([]Attachment, error)
	// What the HTTP API needs: API keys, settings, idempotency keys,
	// directory listings, delivery retry, statistics (access.go).
	AccessQueries
	// Preferences per type and channel (preferences.go).
	PreferenceQueries
	// People reached by account type (accounttype.go).
	AccountTypeQueries
	// A whole directory at once (sync.go).
	SyncQueries
	// Time zones, quiet hours, held e-mail (quiet.go).
	QuietQueries
	// Digests (digest.go).
	DigestQueries
	// Webhook outlets (webhook.go).
	WebhookQueries
	// Browser push subscriptions (push.go).
	PushQueries
	// Realtime feed (feed.go). NotificationSetRead, NotificationReadAll
	// and NotificationPostpone add to the change log in their transaction;
	// on a FeedListener store, they and NotificationFanOut also signal
	// the commit.
	NotificationFeed(ctx context.Context, p *NotificationFeedParams) ([]InboxItem, error)
	NotificationSince(ctx context.Context, p *NotificationSinceParams) ([]InboxItem, error)
	// NotificationCountUnreadMany is NotificationCountUnread for several
	// users at once; every user asked is in the map.
	NotificationCountUnreadMany(ctx context.Context, userIDs []string, now time.Time) (map[string]map[Channel]int, error)
	ChangeList(ctx context.Context, p *ChangeListParams) ([]NotificationChange, error)
	ChangePurge(ctx context.Context, p *ChangePurgeParams) (int, error)
	FeedHead(ctx context.Context) (FeedHead, error)
}

// EventListParams filters EventList. Zero fields do not filter. Events come
// newest first; BeforeID continues a previous page (ids below it).
type EventListParams struct {
	Status      EventStatus
	ContextType string
	ContextID   string
	Key         string
	// Title keeps the events whose title contains it (ASCII letters in
	// any case).
	Title string
	// Recipient keeps the events that reached this user id, in the app
	// or by e-mail.
	Recipient string
	// BeforeID continues a page to older events; AfterID goes back to
	// newer ones (the events just newer than AfterID, still newest first).
	BeforeID int64
	AfterID  int64
	Limit    int
}

// EventFinishParams moves event ID from pending to Status.
type EventFinishParams struct {
	ID      int64
	Status  EventStatus
	Reason  string
	Channel Channel         // when publishing: the channel chosen
	Counts  map[Channel]int // when publishing: users reached per channel
	Report  *SendReport     // when publishing: who got nothing (nil keeps the event's)
	At      time.Time
	// InsertedPublished says the event was inserted published, with its
	// published_at, by this transaction (an immediate notify): only its
	// outcome (reason, channel, counts, report, updated_at) is written, on
	// a published event instead of a pending one. On PostgreSQL no indexed
	// column changes, so the row is updated in place (HOT), without a
	// second entry in each of the events' indexes.
	InsertedPublished bool
}

// EventCancelPendingParams selects pending events by context.
type EventCancelPendingParams struct {
	ContextType string
	ContextID   string
	Key         string // optional
	ExceptID    int64  // optional: never cancel this one
	Reason      string
	At          time.Time
}

// NotificationInsertManyParams creates one notification per user id.
type NotificationInsertManyParams struct {
	EventID   int64
	Channel   Channel
	UserIDs   []string
	CreatedAt time.Time
	ExpiresAt *time.Time
}

// NotificationFanOutParams are the resolved routes of an event on an in-app
// channel.
type NotificationFanOutParams struct {
	EventID    int64
	Channel    Channel
	GroupNames []string
	UserIDs    []string
	CompanyID  string
	// AccountType reaches people by account type (AccountTypesReached).
	AccountType string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	// Prefs, when set, keeps only the users for whom the preferences turn
	// Channel on (and records the others as skipped when Prefs.Skips).
	Prefs *PreferenceFilter
	// Also are more in-app channels the same statement fans out to, each
	// to the users among the same routes whose preferences turn it on
	// where the fallback is off (filters with Fallback false and no
	// Skips: few people). Only with Prefs nil or of Fallback true, the
	// main channel reaching most people.
	Also []*PreferenceFilter
	// Finish, when set, writes the outcome of the event (an immediate
	// notify's, inserted published: Finish.InsertedPublished) with this
	// fan-out, its counts those of Channel: on PostgreSQL in the same
	// statement, one round trip fewer per notify. Not with Also.
	Finish *EventFinishParams
}

// CheckFanOutFinish says whether p.Finish is one a fan-out can write.
func CheckFanOutFinish(p *NotificationFanOutParams) error {
	f := p.Finish
	switch {
	case f == nil:
		return nil
	case len(p.Also) > 0:
		return Invalid("finish", "cannot be written with more channels than one")
	case f.ID != p.EventID:
		return Invalid("finish", "is for event %d, not the fan-out's %d", f.ID, p.EventID)
	case !f.InsertedPublished || f.Status != EventPublished:
		return Invalid("finish", "only an event inserted published has its outcome written with its fan-out")
	}
	return nil
}

// FinishWith is p.Finish with the counts of a fan-out: those of p.Channel.
func (p *NotificationFanOutParams) FinishWith(counts map[Channel]int) *EventFinishParams {
	f := *p.Finish
	f.Counts = map[Channel]int{p.Channel: counts[p.Channel]}
	return &f
}

// NotificationListParams selects a page of a user's notifications.
// Items come newest visible first; Cursor continues a previous page.
type NotificationListParams struct {
	UserID     string
	Channel    Channel // empty: every in-app channel
	UnreadOnly bool
	// Archived lists the archive instead of the inbox: only archived
	// notifications (without it, only those not archived).
	Archived bool
	Now      time.Time
	Cursor   *Cursor
	Limit    int
	// Events, when set, keeps what the items show of their events between
	// reads (nil: each read loads them).
	Events *EventCache
}

// Cursor is the position after the last item of a page.
type Cursor struct {
	VisibleAt time.Time
	ID        int64
}

// NotificationSetReadParams marks one of a user's notifications.
type NotificationSetReadParams struct {
	UserID string
	ID     int64
	ReadAt *time.Time // nil: unread
	At     time.Time  // when the change is made (now when zero), for the change log
}

// NotificationReadAllParams marks every visible unread notification of a
// user in a channel (every channel when empty) as read.
type NotificationReadAllParams struct {
	UserID  string
	Channel Channel
	At      time.Time
}

// NotificationPostponeParams hides a notification until Until.
type NotificationPostponeParams struct {
	UserID string
	ID     int64
	Until  time.Time
	At     time.Time // when the change is made (now when zero), for the change log
}

// NotificationPurgeParams bounds a purge.
type NotificationPurgeParams struct {
	ReadBefore    time.Time
	ExpiredBefore time.Time
	Limit         int
}

// DeliveryInsertManyParams queues one delivery per recipient.
type DeliveryInsertManyParams struct {
	EventID int64
	// Channel is the channel of every delivery (empty: email). An e-mail's
	// target is its address; a delivery of another channel goes to its
	// recipient's Target and has "channel:target" as its address.
	Channel    string
	Recipients []DeliveryRecipient
	CreatedAt  time.Time
}

// DeliveryListParams filters DeliveryList; newest first.
type DeliveryListParams struct {
	Channel  string // empty: every channel
	EventID  int64
	State    DeliveryState
	BeforeID int64
	AfterID  int64 // the deliveries just newer than AfterID, still newest first
	Limit    int
}

// DeliveryClaimParams takes due deliveries for sending.
type DeliveryClaimParams struct {
	Channel    string    // the channel whose deliveries are claimed (empty: email)
	Owner      string    // a token naming this claim; DeliveryRecord checks it
	Now        time.Time // what is due is due at Now
	LeaseUntil time.Time
	Limit      int
	// MessageIDDomain ends the Message-ID given to deliveries that have
	// none: RANDOM.ID@MessageIDDomain.
	MessageIDDomain string
}

// DeliveryRecordParams writes the outcomes of one claim.
type DeliveryRecordParams struct {
	Owner    string
	At       time.Time
	Outcomes []DeliveryOutcome
}

// DeliveryRetryParams selects deliveries to queue again.
type DeliveryRetryParams struct {
	ID      int64  // one delivery; zero: every failed one
	Channel string // with ID zero: only this channel's (empty: every channel)
	EventID int64  // with ID zero: only this event's
	At      time.Time
}

// Dedupe returns ss without repeats, first occurrence kept.
func Dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// StatsGatherer is implemented by stores whose query planner needs
// statistics that nothing gathers at once (PostgreSQL: autovacuum decides
// when). Writers of data in bulk call it after they commit, so that the
// first queries after a directory import do not run on a plan made for
// empty tables.
type StatsGatherer interface {
	// DirectoryWritten tells the store that rows directory rows (users,
	// companies) were written: it gathers the directory tables'
	// statistics when they never were or when rows is a large share of
	// them.
	DirectoryWritten(ctx context.Context, rows int) error
}
