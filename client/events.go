package client

import (
	"context"
	"net/url"
	"time"
)

// Notification is what Notify sends: content, recipients (at least one
// route) and options, with the field names of the API.
type Notification struct {
	Key            string     `json:"key"`
	Title          string     `json:"title"`
	Body           string     `json:"body,omitempty"`
	DueDatetime    *time.Time `json:"due_datetime,omitempty"` // schedule for then
	Until          *time.Time `json:"until,omitempty"`        // never published nor shown after
	GroupNames     []string   `json:"group_names,omitempty"`
	UserIDs        []string   `json:"user_ids,omitempty"`
	CompanyID      string     `json:"company_id,omitempty"`
	FollowerUserID string     `json:"follower_user_id,omitempty"`
	// AccountType reaches the active people of an account type
	// (entrepreneur and equipe_appui include hybride); "all" everybody.
	AccountType  string   `json:"account_type,omitempty"`
	ForceChannel string   `json:"force_channel,omitempty"` // email, message, header_message, alert, push
	Context      *Context `json:"context,omitempty"`
	CheckURL     string   `json:"check_url,omitempty"`
	// URL is what the notification leads to (http or https, at most
	// 2,048 bytes); Actions are up to three buttons.
	URL     string   `json:"url,omitempty"`
	Actions []Action `json:"actions,omitempty"`
}

// Action is a button of a notification: a Label (at most 100
// characters) and either a URL the person opens or a Callback, a URL of
// the host that Cloche POSTs to, signed, when the person presses it.
type Action struct {
	Label    string `json:"label"`
	URL      string `json:"url,omitempty"`
	Callback string `json:"callback,omitempty"`
}

// Context is the object a notification is about.
type Context struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Result is what Notify did.
type Result struct {
	EventID          int64          `json:"event_id"`
	Status           string         `json:"status"` // published, or pending when scheduled
	Channel          string         `json:"channel"`
	Reached          map[string]int `json:"reached"`
	UnknownUserIDs   []string       `json:"unknown_user_ids,omitempty"`
	UnknownCompanyID string         `json:"unknown_company_id,omitempty"`
	// UnknownGroupNames are given group names no user belongs to.
	UnknownGroupNames []string `json:"unknown_group_names,omitempty"`
	// Unreachable are recipients who got nothing (the first 100;
	// UnreachableMore counts the rest). Empty for a scheduled event: its
	// report (Event.Report) says it once published.
	Unreachable     []Unreachable `json:"unreachable,omitempty"`
	UnreachableMore int           `json:"unreachable_more,omitempty"`
	Replaced        []int64       `json:"replaced,omitempty"`
	// Replayed: this is the first answer to the same request with the same
	// idempotency key; nothing was done this time.
	Replayed bool `json:"-"`
}

// Unreachable is a recipient who got nothing: Kind "user", "company" or
// "group"; Reason "inactive", "no_active_member" or "no_email".
type Unreachable struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Report says who of an event's recipients got nothing, and why.
type Report struct {
	UnknownUserIDs    []string      `json:"unknown_user_ids,omitempty"`
	UnknownCompanyID  string        `json:"unknown_company_id,omitempty"`
	UnknownGroupNames []string      `json:"unknown_group_names,omitempty"`
	Unreachable       []Unreachable `json:"unreachable,omitempty"`
	UnreachableMore   int           `json:"unreachable_more,omitempty"`
}

// NotifyOption is an option of Notify.
type NotifyOption func(map[string]string)

// IdempotencyKey makes Notify safe to retry for 24 hours: a retry with the
// same key and the same notification returns the first result and creates
// nothing; with another notification it fails (ErrInvalid, Field
// "Idempotency-Key").
func IdempotencyKey(key string) NotifyOption {
	return func(h map[string]string) { h["Idempotency-Key"] = key }
}

// Notify sends a notification now, or schedules it (POST /api/v1/events).
func (c *Client) Notify(ctx context.Context, n Notification, opts ...NotifyOption) (*Result, error) {
	h := map[string]string{}
	for _, o := range opts {
		o(h)
	}
	var res Result
	header, err := c.call(ctx, "POST", "/api/v1/events", nil, n, &res, h)
	if err != nil {
		return nil, err
	}
	res.Replayed = header.Get("Idempotent-Replayed") == "true"
	return &res, nil
}

// Recipients are an event's routes.
type Recipients struct {
	GroupNames     []string `json:"group_names,omitempty"`
	UserIDs        []string `json:"user_ids,omitempty"`
	CompanyID      string   `json:"company_id,omitempty"`
	FollowerUserID string   `json:"follower_user_id,omitempty"`
	AccountType    string   `json:"account_type,omitempty"`
}

// Event is one notify, with its outcome.
type Event struct {
	ID           int64          `json:"id"`
	Key          string         `json:"key"`
	Title        string         `json:"title"`
	Body         string         `json:"body"`
	DueDatetime  *time.Time     `json:"due_datetime,omitempty"`
	Until        *time.Time     `json:"until,omitempty"`
	ContextType  string         `json:"context_type,omitempty"`
	ContextID    string         `json:"context_id,omitempty"`
	CheckURL     string         `json:"check_url,omitempty"`
	URL          string         `json:"url,omitempty"`
	Actions      []Action       `json:"actions,omitempty"`
	ForceChannel string         `json:"force_channel,omitempty"`
	Channel      string         `json:"channel"`
	Recipients   Recipients     `json:"recipients"`
	Status       string         `json:"status"`
	StatusReason string         `json:"status_reason,omitempty"`
	Counts       map[string]int `json:"counts,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	PublishedAt  *time.Time     `json:"published_at,omitempty"`
	// Report says who got nothing: what was unknown at creation, then
	// what its publication found. Nil when everyone was reached.
	Report *Report `json:"report,omitempty"`
	// Deliveries counts e-mail deliveries per state (Event only, for
	// e-mail events).
	Deliveries map[string]int `json:"deliveries,omitempty"`
	// Muted are the recipients who got nothing on a channel because of
	// their settings: a preference, quiet hours pending, an unread delay
	// pending, a digest (Event only). Inactive people and missing
	// addresses are in Report.
	Muted []Muted `json:"muted,omitempty"`
}

// Muted is a recipient a preference kept from a channel of an event.
type Muted struct {
	UserID  string `json:"user_id"`
	Channel string `json:"channel"`
	Reason  string `json:"reason"` // "preference", "quiet_hours" (quiet hours pending), "unread", "digest" (held for a digest)
	// NotBefore is when a held e-mail may leave (for a digest: when the
	// digest falls due).
	NotBefore *time.Time `json:"not_before,omitempty"`
}

// EventFilter selects events; zero fields do not filter.
type EventFilter struct {
	Status  string
	Key     string
	Context *Context
	Cursor  string
	Limit   int
}

// Events lists events, newest first.
func (c *Client) Events(ctx context.Context, f EventFilter) (*Page[Event], error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Key != "" {
		q.Set("key", f.Key)
	}
	if f.Context != nil {
		q.Set("context", f.Context.Type+":"+f.Context.ID)
	}
	var p Page[Event]
	_, err := c.call(ctx, "GET", "/api/v1/events", pageQuery(q, f.Cursor, f.Limit), nil, &p, nil)
	return &p, err
}

// Event returns one event, with its delivery states.
func (c *Client) Event(ctx context.Context, id int64) (*Event, error) {
	var ev Event
	_, err := c.call(ctx, "GET", "/api/v1/events/"+id64(id), nil, nil, &ev, nil)
	return &ev, err
}

// CancelEvent cancels a pending event (ErrConflict if it is not pending).
func (c *Client) CancelEvent(ctx context.Context, id int64) error {
	_, err := c.call(ctx, "POST", "/api/v1/events/"+id64(id)+"/cancel", nil, nil, nil, nil)
	return err
}

// CancelEvents cancels the pending events about an object (only those of
// key, when not empty) and returns their ids.
func (c *Client) CancelEvents(ctx context.Context, about Context, key string) ([]int64, error) {
	var out struct {
		Cancelled []int64 `json:"cancelled"`
	}
	in := struct {
		Context Context `json:"context"`
		Key     string  `json:"key,omitempty"`
	}{about, key}
	_, err := c.call(ctx, "POST", "/api/v1/events/cancel", nil, in, &out, nil)
	return out.Cancelled, err
}

// NotificationType is found by its key and gives the default channel.
type NotificationType struct {
	Key            string `json:"key"`
	Label          string `json:"label"`
	DefaultChannel string `json:"default_channel"`
	StatusType     string `json:"status_type"`
	Builtin        bool   `json:"builtin"`
	Mandatory      bool   `json:"mandatory"`
	// EmailIfUnreadMinutes: the type's e-mail waits this long and leaves
	// only if the in-app notification is still unread (0: at once).
	EmailIfUnreadMinutes int       `json:"email_if_unread_minutes"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// TypeSettings change a type; empty fields keep their value (a new type
// needs DefaultChannel).
type TypeSettings struct {
	Label          string `json:"label,omitempty"`
	DefaultChannel string `json:"default_channel,omitempty"`
	StatusType     string `json:"status_type,omitempty"`
	// Mandatory, when set, makes the type mandatory (its default channel
	// cannot be turned off by a preference) or not.
	Mandatory *bool `json:"mandatory,omitempty"`
	// EmailIfUnreadMinutes, when set, changes the type's unread delay
	// (0 turns it off).
	EmailIfUnreadMinutes *int `json:"email_if_unread_minutes,omitempty"`
}

// Types lists the notification types.
func (c *Client) Types(ctx context.Context) ([]NotificationType, error) {
	var p Page[NotificationType]
	_, err := c.call(ctx, "GET", "/api/v1/types", nil, nil, &p, nil)
	return p.Items, err
}

// Type returns one notification type.
func (c *Client) Type(ctx context.Context, key string) (*NotificationType, error) {
	var t NotificationType
	_, err := c.call(ctx, "GET", "/api/v1/types/"+seg(key), nil, nil, &t, nil)
	return &t, err
}

// SetType creates or changes a notification type.
func (c *Client) SetType(ctx context.Context, key string, s TypeSettings) (*NotificationType, error) {
	var t NotificationType
	_, err := c.call(ctx, "PUT", "/api/v1/types/"+seg(key), nil, s, &t, nil)
	return &t, err
}

// DeleteType deletes a type no event uses (ErrConflict otherwise).
func (c *Client) DeleteType(ctx context.Context, key string) error {
	_, err := c.call(ctx, "DELETE", "/api/v1/types/"+seg(key), nil, nil, nil, nil)
	return err
}
