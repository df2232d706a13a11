package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Token is a user token, for a page of the host to read one user's
// notifications.
type Token struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn int64     `json:"expires_in"`
}

// UserToken mints a user token for userID, valid for ttl (0: the server's
// auth.token_ttl).
func (c *Client) UserToken(ctx context.Context, userID string, ttl time.Duration) (*Token, error) {
	in := struct {
		TTLSeconds int64 `json:"ttl_seconds,omitempty"`
	}{int64(ttl / time.Second)}
	var t Token
	_, err := c.call(ctx, "POST", "/api/v1/users/"+seg(userID)+"/token", nil, in, &t, nil)
	return &t, err
}

// Inbox is one user's in-app notifications.
type Inbox struct {
	c      *Client
	prefix string
}

// Me is the inbox of the user whose token the client sends.
func (c *Client) Me() *Inbox { return &Inbox{c: c, prefix: "/api/v1/me"} }

// Inbox is the inbox of any user, for a client sending an API key.
func (c *Client) Inbox(userID string) *Inbox {
	return &Inbox{c: c, prefix: "/api/v1/users/" + seg(userID)}
}

// InboxItem is one in-app notification.
type InboxItem struct {
	ID          int64      `json:"id"`
	EventID     int64      `json:"event_id"`
	UserID      string     `json:"user_id"`
	Channel     string     `json:"channel"`
	Key         string     `json:"key"`
	StatusType  string     `json:"status_type"`
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
	// ArchivedAt is when it was archived (nil: in the inbox).
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// ItemAction is an action as the recipient sees it: it opens URL, or,
// when Callback is set, RunAction has Cloche call the host.
type ItemAction struct {
	Label    string `json:"label"`
	URL      string `json:"url,omitempty"`
	Callback bool   `json:"callback,omitempty"`
}

// ActionResult is what the host answered a callback action.
type ActionResult struct {
	OK      bool   `json:"ok"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// InboxQuery selects a page of notifications.
type InboxQuery struct {
	Channel    string // message, header_message or alert; empty: all three
	UnreadOnly bool
	// Archived lists the archive instead of the inbox.
	Archived bool
	Cursor   string
	Limit    int
}

// Counts are the unread notifications per in-app channel.
type Counts struct {
	Unread map[string]int `json:"unread"`
	Total  int            `json:"total"`
}

// List returns a page of notifications, newest visible first.
func (in *Inbox) List(ctx context.Context, q InboxQuery) (*Page[InboxItem], error) {
	v := url.Values{}
	if q.Channel != "" {
		v.Set("channel", q.Channel)
	}
	if q.UnreadOnly {
		v.Set("unread", "true")
	}
	if q.Archived {
		v.Set("archived", "true")
	}
	var p Page[InboxItem]
	_, err := in.c.call(ctx, "GET", in.prefix+"/notifications", pageQuery(v, q.Cursor, q.Limit), nil, &p, nil)
	return &p, err
}

// Get returns one notification.
func (in *Inbox) Get(ctx context.Context, id int64) (*InboxItem, error) {
	var it InboxItem
	_, err := in.c.call(ctx, "GET", in.prefix+"/notifications/"+id64(id), nil, nil, &it, nil)
	return &it, err
}

// Counts returns the unread counts.
func (in *Inbox) Counts(ctx context.Context) (*Counts, error) {
	var c Counts
	_, err := in.c.call(ctx, "GET", in.prefix+"/counts", nil, nil, &c, nil)
	return &c, err
}

// MarkRead marks a notification read.
func (in *Inbox) MarkRead(ctx context.Context, id int64) error {
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/read", nil, nil, nil, nil)
	return err
}

// MarkUnread marks a notification unread.
func (in *Inbox) MarkUnread(ctx context.Context, id int64) error {
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/unread", nil, nil, nil, nil)
	return err
}

// MarkAllRead marks every visible unread notification of channel (of all
// in-app channels when empty) read and says how many.
func (in *Inbox) MarkAllRead(ctx context.Context, channel string) (int, error) {
	body := struct {
		Channel string `json:"channel,omitempty"`
	}{channel}
	var out struct {
		Marked int `json:"marked"`
	}
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/read-all", nil, body, &out, nil)
	return out.Marked, err
}

// Postpone hides a notification until until (nil: the server's
// postpone_default) and returns when it shows again.
func (in *Inbox) Postpone(ctx context.Context, id int64, until *time.Time) (time.Time, error) {
	body := struct {
		Until *time.Time `json:"until,omitempty"`
	}{until}
	var out struct {
		VisibleAt time.Time `json:"visible_at"`
	}
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/postpone", nil, body, &out, nil)
	return out.VisibleAt, err
}

// Archive moves a notification to the archive: it leaves the inbox and the
// unread counts, and is kept.
func (in *Inbox) Archive(ctx context.Context, id int64) error {
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/archive", nil, nil, nil, nil)
	return err
}

// Unarchive brings an archived notification back to the inbox.
func (in *Inbox) Unarchive(ctx context.Context, id int64) error {
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/unarchive", nil, nil, nil, nil)
	return err
}

// RunAction runs action n (from 0) of a notification, one with a
// callback: Cloche calls the host, signed, and says what it answered.
func (in *Inbox) RunAction(ctx context.Context, id int64, n int) (*ActionResult, error) {
	var out ActionResult
	_, err := in.c.call(ctx, "POST", in.prefix+"/notifications/"+id64(id)+"/actions/"+strconv.Itoa(n), nil, nil, &out, nil)
	return &out, err
}
