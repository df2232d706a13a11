package cloche

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/store"
)

// Channel is the way a notification reaches a person.
type Channel = store.Channel

// The four channels.
const (
	ChannelEmail         = store.ChannelEmail
	ChannelMessage       = store.ChannelMessage
	ChannelHeaderMessage = store.ChannelHeaderMessage
	ChannelAlert         = store.ChannelAlert
	ChannelPush          = store.ChannelPush
)

// Notification is the abstract notification a sender builds: Key names its
// type; DueAt schedules it; Until is when it stops mattering; Context is the
// object it is about; CheckURL is asked at due time whether it still applies.
type Notification = dispatch.Notification

// Context is the object a notification is about (Type "invoice", ID "42").
type Context = dispatch.Context

// ParseContext reads "TYPE:ID".
func ParseContext(s string) (*Context, error) { return dispatch.ParseContext(s) }

// Recipients are the routes to people: a union, each person reached once.
type Recipients = store.Recipients

// Result tells what Notify did.
type Result = dispatch.Result

// SendReport says who of a send's recipients got nothing, and why; an
// event keeps it (Event.Report).
type SendReport = store.SendReport

// Unreachable is a recipient the directory holds who got nothing: Kind
// "user", "company" or "group", Reason "inactive", "no_active_member" or
// "no_email".
type Unreachable = store.Unreachable

// Event is one call of Notify, with its outcome.
type Event = store.Event

// EventStatus is where an event stands.
type EventStatus = store.EventStatus

// Event statuses.
const (
	EventPending   = store.EventPending
	EventPublished = store.EventPublished
	EventCancelled = store.EventCancelled
	EventExpired   = store.EventExpired
	EventDropped   = store.EventDropped
	EventFailed    = store.EventFailed
)

// NotifyOption is a sender's choice beyond content and recipients.
type NotifyOption func(*dispatch.Options)

// ForceChannel sends on c whatever the type's default channel.
func ForceChannel(c Channel) NotifyOption {
	return func(o *dispatch.Options) { o.ForceChannel = c }
}

// Notify sends n to r: at once, or when n.DueAt falls due. It records one
// event either way. A pending event of the same context and key is replaced.
func (s *Service) Notify(ctx context.Context, n Notification, r Recipients, opts ...NotifyOption) (*Result, error) {
	var o dispatch.Options
	for _, opt := range opts {
		opt(&o)
	}
	res, err := s.disp.Notify(ctx, n, r, o)
	return res, wrap("notify", err)
}

// Event returns one event.
func (s *Service) Event(ctx context.Context, id int64) (*Event, error) {
	ev, err := s.store.EventGet(ctx, id)
	return ev, wrap(fmt.Sprintf("event %d", id), err)
}

// EventFilter selects events; zero fields do not filter.
type EventFilter struct {
	Status  EventStatus
	Context *Context
	Key     string
	// Title keeps the events whose title contains it (ASCII letters in
	// any case); Recipient those that reached this user id, in the app or
	// by e-mail.
	Title     string
	Recipient string
	BeforeID  int64 // continue a page: events older than this id
	AfterID   int64 // go back a page: the events just newer than this id
	Limit     int   // default 50, at most 1000
}

// Events lists events, newest first.
func (s *Service) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	p, err := eventParams(f)
	if err != nil {
		return nil, err
	}
	evs, err := s.store.EventList(ctx, p)
	return evs, wrap("events", err)
}

// eventParams checks f and makes it the store's.
func eventParams(f EventFilter) (*store.EventListParams, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, store.Invalid("status", "%q is not an event status (%s)", f.Status, joinStrings(store.EventStatuses))
	}
	if err := errors.Join(store.CheckID("key", f.Key), store.CheckText("title", f.Title), store.CheckID("recipient", f.Recipient)); err != nil {
		return nil, err
	}
	if c := f.Context; c != nil {
		if err := errors.Join(store.CheckID("context.type", c.Type), store.CheckID("context.id", c.ID)); err != nil {
			return nil, err
		}
	}
	p := &store.EventListParams{Status: f.Status, Key: f.Key, Title: f.Title, Recipient: f.Recipient,
		BeforeID: f.BeforeID, AfterID: f.AfterID, Limit: f.Limit}
	if f.Context != nil {
		p.ContextType, p.ContextID = f.Context.Type, f.Context.ID
	}
	return p, nil
}

// CancelEvent cancels a pending event; ErrConflict if it is not pending.
func (s *Service) CancelEvent(ctx context.Context, id int64) error {
	return wrap(fmt.Sprintf("event %d", id), s.disp.Cancel(ctx, id))
}

// CancelEvents cancels the pending events about c (of key only, if given)
// and returns their ids.
func (s *Service) CancelEvents(ctx context.Context, c Context, key string) ([]int64, error) {
	if err := errors.Join(store.CheckID("context.type", c.Type), store.CheckID("context.id", c.ID),
		store.CheckID("key", key)); err != nil {
		return nil, err
	}
	ids, err := s.disp.CancelByContext(ctx, c, key)
	return ids, wrap("events of "+c.String(), err)
}

// Delivery is one e-mail of one event to one address.
type Delivery = store.Delivery

// DeliveryState is where a delivery stands.
type DeliveryState = store.DeliveryState

// DeliveryFilter selects deliveries; zero fields do not filter.
type DeliveryFilter struct {
	// Channel: only the deliveries of this outbound channel (email, push,
	// webhook).
	Channel  string
	EventID  int64
	State    DeliveryState
	BeforeID int64
	AfterID  int64 // go back a page: the deliveries just newer than this id
	Limit    int
}

// Deliveries lists the deliveries of every outbound channel (of
// f.Channel, when set), newest first.
func (s *Service) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, store.Invalid("status", "%q is not a delivery state (%s)", f.State, joinStrings(store.DeliveryStates))
	}
	if f.Channel != "" && !slices.Contains(s.outbound.Channels(), f.Channel) {
		return nil, store.Invalid("channel", "%q is not an outbound channel (%s)", f.Channel, strings.Join(s.outbound.Channels(), ", "))
	}
	ds, err := s.store.DeliveryList(ctx, &store.DeliveryListParams{Channel: f.Channel, EventID: f.EventID, State: f.State, BeforeID: f.BeforeID, AfterID: f.AfterID, Limit: f.Limit})
	return ds, wrap("deliveries", err)
}

func joinStrings[T ~string](vs []T) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}

// NotificationType is found by its key and gives the default channel.
type NotificationType = store.NotificationType

// StatusType is the visual mark of a type.
type StatusType = store.StatusType

// Types lists the notification types.
func (s *Service) Types(ctx context.Context) ([]NotificationType, error) {
	ts, err := s.store.TypeList(ctx)
	return ts, wrap("types", err)
}

// Type returns one notification type.
func (s *Service) Type(ctx context.Context, key string) (*NotificationType, error) {
	if err := store.CheckID("key", key); err != nil {
		return nil, err
	}
	t, err := s.store.TypeGet(ctx, key)
	return t, wrap(fmt.Sprintf("type %q", key), err)
}

// TypeOption changes what SetType does beyond the type's fields.
type TypeOption func(*typeOptions)

type typeOptions struct {
	mandatory     *bool
	emailIfUnread *int
}

// Mandatory makes the type mandatory (its default channel cannot be
// turned off by a preference) or not; without it, SetType keeps the flag
// as it is (false for a new type). t.Mandatory is ignored.
func Mandatory(on bool) TypeOption { return func(o *typeOptions) { o.mandatory = &on } }

// SetType creates or updates a type. Empty Label keeps the current one (or
// the key, for a new type); empty StatusType keeps the current one (or
// neutral). DefaultChannel is required for a new type.
func (s *Service) SetType(ctx context.Context, t NotificationType, opts ...TypeOption) (*NotificationType, error) {
	var o typeOptions
	for _, opt := range opts {
		opt(&o)
	}
	t.Key = strings.TrimSpace(t.Key)
	if t.Key == "" {
		return nil, store.Invalid("key", "must not be empty")
	}
	if strings.ContainsAny(t.Key, " \t\n") {
		return nil, store.Invalid("key", "%q must not contain spaces", t.Key)
	}
	if err := errors.Join(store.CheckID("key", t.Key), store.CheckName("label", t.Label)); err != nil {
		return nil, err
	}
	var out *NotificationType
	err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.TypeGet(ctx, t.Key)
		if err != nil && !isNotFound(err) {
			return err
		}
		if cur != nil {
			t.Label = cmpOr(t.Label, cur.Label)
			t.DefaultChannel = cmpOr(t.DefaultChannel, cur.DefaultChannel)
			t.StatusType = cmpOr(t.StatusType, cur.StatusType)
		}
		t.Label = cmpOr(strings.TrimSpace(t.Label), t.Key)
		t.StatusType = cmpOr(t.StatusType, store.StatusNeutral)
		switch {
		case t.DefaultChannel == "":
			return store.Invalid("default_channel", "is required for a new type (email, message, header_message, alert, push)")
		case !t.DefaultChannel.Valid():
			return store.Invalid("default_channel", "%q is not a channel (email, message, header_message, alert, push)", t.DefaultChannel)
		case !t.StatusType.Valid():
			return store.Invalid("status_type", "%q is not a status type (%s)", t.StatusType, joinStrings(store.StatusTypes))
		}
		t.UpdatedAt = s.disp.Now()
		if err := tx.TypeUpsert(ctx, &t); err != nil {
			return err
		}
		if o.mandatory != nil && *o.mandatory != t.Mandatory {
			if err := tx.TypeSetMandatory(ctx, t.Key, *o.mandatory); err != nil {
				return err
			}
			t.Mandatory = *o.mandatory
		}
		if o.emailIfUnread != nil && *o.emailIfUnread != t.EmailIfUnreadMinutes {
			if err := checkEmailIfUnread("email_if_unread_minutes", *o.emailIfUnread); err != nil {
				return err
			}
			if err := tx.TypeSetEmailIfUnread(ctx, t.Key, *o.emailIfUnread); err != nil {
				return err
			}
			t.EmailIfUnreadMinutes = *o.emailIfUnread
		}
		out = &t
		return nil
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("type %q", t.Key), err)
	}
	s.disp.TypesChanged()
	s.events.TypesChanged()
	s.inboxesChanged(nil, true) // the notifications of the type show its status mark
	return out, nil
}

// DeleteType deletes a type no event uses (ErrInUse otherwise).
func (s *Service) DeleteType(ctx context.Context, key string) error {
	if err := store.CheckID("key", key); err != nil {
		return err
	}
	err := s.store.TypeDelete(ctx, key)
	if err == nil {
		s.disp.TypesChanged()
		s.events.TypesChanged()
		s.inboxesChanged(nil, true)
	}
	return wrap(fmt.Sprintf("type %q", key), err)
}
