package store

import (
	"encoding/json"
	"time"
)

// Channel is the way a notification reaches a person.
type Channel string

// The channels. The four of the seed, and push (Web Push to the
// browsers a person subscribed).
const (
	ChannelEmail         Channel = "email"
	ChannelMessage       Channel = "message"
	ChannelHeaderMessage Channel = "header_message"
	ChannelAlert         Channel = "alert"
	ChannelPush          Channel = "push"
)

// Channels lists every channel in a stable order.
var Channels = []Channel{ChannelEmail, ChannelMessage, ChannelHeaderMessage, ChannelAlert, ChannelPush}

// Valid reports whether c is one of the channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelMessage, ChannelHeaderMessage, ChannelAlert, ChannelPush:
		return true
	}
	return false
}

// InApp reports whether c is shown in the host's pages rather than sent
// out of them (e-mail, push).
func (c Channel) InApp() bool {
	return c == ChannelMessage || c == ChannelHeaderMessage || c == ChannelAlert
}

// Notifies reports whether c creates a notification per person: the
// in-app channels, and push (the notification a push shows, read when
// clicked).
func (c Channel) Notifies() bool { return c.InApp() || c == ChannelPush }

// Label is the human name of the channel.
func (c Channel) Label() string {
	switch c {
	case ChannelEmail:
		return "E-mail"
	case ChannelMessage:
		return "Message (bell menu)"
	case ChannelHeaderMessage:
		return "Banner at the top of the page"
	case ChannelAlert:
		return "Alert (modal)"
	case ChannelPush:
		return "Browser push (desktop notification)"
	}
	return string(c)
}

// StatusType is the visual mark of a notification type.
type StatusType string

// The status types of the seed.
const (
	StatusNeutral  StatusType = "neutral"
	StatusValid    StatusType = "valid"
	StatusInvalid  StatusType = "invalid"
	StatusCaution  StatusType = "caution"
	StatusDocument StatusType = "document"
	StatusCalendar StatusType = "calendar"
)

// StatusTypes lists every status type.
var StatusTypes = []StatusType{StatusNeutral, StatusValid, StatusInvalid, StatusCaution, StatusDocument, StatusCalendar}

// Valid reports whether s is a known status type.
func (s StatusType) Valid() bool {
	for _, v := range StatusTypes {
		if s == v {
			return true
		}
	}
	return false
}

// EventStatus is where a notification event stands.
type EventStatus string

// Event statuses. Pending is the only one that ever changes.
const (
	EventPending   EventStatus = "pending"   // scheduled, not yet due
	EventPublished EventStatus = "published" // fanned out to its recipients
	EventCancelled EventStatus = "cancelled" // by id, by context, or replaced
	EventExpired   EventStatus = "expired"   // fell due after its until
	EventDropped   EventStatus = "dropped"   // its check_url said it no longer applies
	EventFailed    EventStatus = "failed"    // its check_url could not be asked
)

// EventStatuses lists every event status.
var EventStatuses = []EventStatus{EventPending, EventPublished, EventCancelled, EventExpired, EventDropped, EventFailed}

// Valid reports whether s is a known event status.
func (s EventStatus) Valid() bool {
	for _, v := range EventStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// User is a person of the host application's directory.
type User struct {
	ID         string   `json:"id"`
	Email      string   `json:"email,omitempty"`
	Name       string   `json:"name,omitempty"`
	Locale     string   `json:"locale,omitempty"`
	Active     bool     `json:"active"`
	Groups     []string `json:"groups"`
	Companies  []string `json:"companies"`
	FollowerID string   `json:"follower_id,omitempty"`
	// AccountType is enDI's kind of account: entrepreneur, equipe_appui,
	// hybride (both), or another string of the host's; empty: none.
	AccountType string `json:"account_type,omitempty"`
	// TimeZone is the person's IANA zone (empty: the organisation's). An
	// upsert with none keeps the stored one.
	TimeZone  string    `json:"time_zone,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Company is an "enseigne": a business whose members can be notified together.
type Company struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Active    bool      `json:"active"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Contact is what fan-out needs of a user.
type Contact struct {
	UserID string
	Email  string
	Active bool
}

// NotificationType is found by its key and decides the default channel.
type NotificationType struct {
	Key            string     `json:"key"`
	Label          string     `json:"label"`
	DefaultChannel Channel    `json:"default_channel"`
	StatusType     StatusType `json:"status_type"`
	Builtin        bool       `json:"builtin"`
	// Mandatory: the default channel cannot be turned off by a preference.
	// TypeUpsert leaves it as it is; TypeSetMandatory changes it.
	Mandatory bool `json:"mandatory"`
	// EmailIfUnreadMinutes: the type's e-mail waits this long and leaves
	// only if the in-app notification is still unread (0: at once).
	// TypeUpsert leaves it as it is; TypeSetEmailIfUnread changes it.
	EmailIfUnreadMinutes int       `json:"email_if_unread_minutes"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// Recipients are the routes by which an event reaches people. They are kept
// on the event and resolved when it is published.
type Recipients struct {
	GroupNames     []string `json:"group_names,omitempty"`
	UserIDs        []string `json:"user_ids,omitempty"`
	CompanyID      string   `json:"company_id,omitempty"`
	FollowerUserID string   `json:"follower_user_id,omitempty"`
	// AccountType reaches the active people of that account type (see
	// AccountTypesReached); "all" reaches every active person.
	AccountType string `json:"account_type,omitempty"`
}

// Empty reports whether no route is given.
func (r Recipients) Empty() bool {
	return len(r.GroupNames) == 0 && len(r.UserIDs) == 0 && r.CompanyID == "" && r.FollowerUserID == "" &&
		r.AccountType == ""
}

// Event is one call of notify: content, recipients and outcome.
type Event struct {
	ID          int64      `json:"id"`
	Key         string     `json:"key"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	DueAt       *time.Time `json:"due_datetime,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
	ContextType string     `json:"context_type,omitempty"`
	ContextID   string     `json:"context_id,omitempty"`
	CheckURL    string     `json:"check_url,omitempty"`
	// URL is what the notification leads to; Actions are its buttons.
	URL          string          `json:"url,omitempty"`
	Actions      []Action        `json:"actions,omitempty"`
	ForceChannel Channel         `json:"force_channel,omitempty"`
	Channel      Channel         `json:"channel"`
	Recipients   Recipients      `json:"recipients"`
	Status       EventStatus     `json:"status"`
	StatusReason string          `json:"status_reason,omitempty"`
	Counts       map[Channel]int `json:"counts,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	PublishedAt  *time.Time      `json:"published_at,omitempty"`
	// Report says who of the recipients got nothing, and why: for a
	// scheduled event, what was unknown when it was created, then, once
	// published, what its publication found.
	Report *SendReport `json:"report,omitempty"`
}

// InboxItem is one in-app notification as its recipient sees it.
type InboxItem struct {
	ID          int64      `json:"id"`
	EventID     int64      `json:"event_id"`
	UserID      string     `json:"user_id"`
	Channel     Channel    `json:"channel"`
	Key         string     `json:"key"`
	StatusType  StatusType `json:"status_type"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	ContextType string     `json:"context_type,omitempty"`
	ContextID   string     `json:"context_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	VisibleAt   time.Time  `json:"visible_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	ReadAt      *time.Time `json:"read_at,omitempty"`
	// URL is what the notification leads to; Actions are its buttons.
	URL     string       `json:"url,omitempty"`
	Actions []ItemAction `json:"actions,omitempty"`
	// ArchivedAt is when its recipient archived it (nil: in the inbox).
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// DeliveryState is where one e-mail stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued   DeliveryState = "queued"
	DeliverySending  DeliveryState = "sending"
	DeliverySent     DeliveryState = "sent"
	DeliveryRetrying DeliveryState = "retrying"
	DeliveryFailed   DeliveryState = "failed"
	// DeliverySkipped: held until the in-app notification was read or the
	// delay ended, it was read first (e-mail only if unread).
	DeliverySkipped DeliveryState = "skipped"
)

// DeliveryStates lists every delivery state.
var DeliveryStates = []DeliveryState{DeliveryQueued, DeliverySending, DeliverySent, DeliveryRetrying, DeliveryFailed, DeliverySkipped}

// Valid reports whether s is a known delivery state.
func (s DeliveryState) Valid() bool {
	for _, v := range DeliveryStates {
		if s == v {
			return true
		}
	}
	return false
}

// Channels of deliveries: what leaves the process (internal/outbound).
const (
	OutboundEmail   = "email"
	OutboundPush    = "push"
	OutboundWebhook = "webhook"
)

// Delivery is one message of one event to one target of an outbound
// channel: an e-mail to an address, a push to a subscription, a webhook
// to an outlet.
type Delivery struct {
	ID      int64  `json:"id"`
	Channel string `json:"channel"`
	// Target is where the delivery goes: an e-mail address, a push
	// subscription id, a webhook outlet id.
	Target      string        `json:"target"`
	EventID     int64         `json:"event_id"`
	UserID      string        `json:"user_id,omitempty"`
	CompanyID   string        `json:"company_id,omitempty"`
	Address     string        `json:"address"`
	State       DeliveryState `json:"state"`
	Attempts    int           `json:"attempts"`
	LastCode    int           `json:"last_code,omitempty"`
	LastMessage string        `json:"last_message,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	SentAt      *time.Time    `json:"sent_at,omitempty"`
	// Reason is why the address receives the e-mail (see DeliveryRecipient).
	Reason string `json:"reason,omitempty"`
	// MessageID is the Message-ID of the e-mail (without angle brackets),
	// set when it is first claimed for sending and kept across attempts.
	MessageID string `json:"message_id,omitempty"`
	// LastAttemptAt is when the last attempt began.
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	// NextAttemptAt is when a retrying delivery is tried again.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// NotBefore is when a held delivery may leave, and HoldReason why it
	// was held (HoldQuietHours, HoldUnread).
	NotBefore  *time.Time `json:"not_before,omitempty"`
	HoldReason string     `json:"hold_reason,omitempty"`
}

// DeliveryRecipient is one address an event's e-mail goes to.
type DeliveryRecipient struct {
	UserID    string
	CompanyID string
	Address   string
	Target    string // for a channel other than email
	// Reason says why the address is reached, as "kind:label": direct,
	// follower:NAME (the person followed), group:NAME, fallback_group:NAME,
	// company:NAME (a member of it), company_address:NAME,
	// account_type:TYPE.
	Reason string
}

// marshalCounts and unmarshalCounts keep Event.Counts as JSON text; both
// backends share them.
func MarshalCounts(c map[Channel]int) string {
	if len(c) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// UnmarshalCounts is the inverse of MarshalCounts.
func UnmarshalCounts(s string) map[Channel]int {
	m := map[Channel]int{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// Attachment is a file sent with every e-mail of an event.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// ClaimedDelivery is a delivery taken for sending, with what its message
// needs of the directory: the recipient's name and locale (a user's, or the
// company's name and no locale).
type ClaimedDelivery struct {
	Delivery
	Name   string
	Locale string
	// LeaseUntil is when the claim lapses and another worker may take it.
	LeaseUntil time.Time
	// Rescued says the delivery was taken from a claim whose lease had
	// lapsed (its worker died or stalled), not queued or due for a retry.
	Rescued bool
}

// DeliveryRenewParams extends the leases of live claims.
type DeliveryRenewParams struct {
	Owners     []string  // the claims, as named in DeliveryClaimParams.Owner
	LeaseUntil time.Time // the leases' new end
}

// DeliveryOutcome is what became of one attempt of a claimed delivery.
type DeliveryOutcome struct {
	ID int64
	// State is sent, retrying or failed; or queued with Release set.
	State   DeliveryState
	Code    int    // the SMTP reply code or HTTP status, 0 when there was none
	Message string // the reply text or the error
	// NextAttemptAt is when a retrying delivery is tried again.
	NextAttemptAt *time.Time
	// Release gives the delivery back untried: its attempt is not counted
	// and its state and next attempt time are restored.
	Release bool
}

// ChannelOrEmail is channel, or email when it is empty: the channel of
// deliveries queued before there were others.
func ChannelOrEmail(channel string) string {
	if channel == "" {
		return OutboundEmail
	}
	return channel
}

// DeliveryAddress is the address and target a delivery of channel to r
// has: an e-mail's target is its address; another channel's address is
// "channel:target", so that an event has one delivery per channel and
// target.
func DeliveryAddress(channel string, r DeliveryRecipient) (address, target string) {
	if channel == OutboundEmail {
		return r.Address, r.Address
	}
	return channel + ":" + r.Target, r.Target
}
