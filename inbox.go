package cloche

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// InboxItem is one in-app notification as its recipient sees it.
type InboxItem = store.InboxItem

// InboxQuery selects a page of a user's in-app notifications.
type InboxQuery struct {
	UserID  string
	Channel Channel // empty: every in-app channel
	All     bool    // include read ones
	// Archived lists the archive (read and unread) instead of the inbox.
	Archived bool
	Cursor   string // from the previous page's Next
	Limit    int    // default 20, at most 200
}

// InboxPage is one page, newest first. Next is empty on the last page.
type InboxPage struct {
	Items []InboxItem `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// Inbox lists a user's visible, unexpired notifications, newest first.
func (s *Service) Inbox(ctx context.Context, q InboxQuery) (*InboxPage, error) {
	if err := store.CheckID("user_id", q.UserID); err != nil {
		return nil, err
	}
	if q.Channel != "" && !q.Channel.InApp() {
		return nil, store.Invalid("channel", "%q is not an in-app channel (message, header_message, alert)", q.Channel)
	}
	p := &store.NotificationListParams{
		UserID: q.UserID, Channel: q.Channel, UnreadOnly: !q.All && !q.Archived, Archived: q.Archived,
		Now: s.disp.Now(), Limit: q.Limit, Events: s.events,
	}
	if p.Limit <= 0 {
		p.Limit = 20
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		p.Cursor = c
	}
	// One more than asked tells whether there is a next page.
	want := min(p.Limit, 200)
	p.Limit = want + 1
	items, err := s.store.NotificationList(ctx, p)
	if err != nil {
		return nil, wrap("inbox", err)
	}
	page := &InboxPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		last := page.Items[want-1]
		page.Next = encodeCursor(store.Cursor{VisibleAt: last.VisibleAt, ID: last.ID})
	}
	return page, nil
}

func encodeCursor(c store.Cursor) string {
	raw := strconv.FormatInt(c.VisibleAt.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (*store.Cursor, error) {
	bad := store.Invalid("cursor", "%q is not a cursor from a previous page", s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	micros, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return nil, bad
	}
	m, err1 := strconv.ParseInt(micros, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, bad
	}
	return &store.Cursor{VisibleAt: time.UnixMicro(m).UTC(), ID: n}, nil
}

// Notification returns one of a user's notifications.
func (s *Service) Notification(ctx context.Context, userID string, id int64) (*InboxItem, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return nil, err
	}
	it, err := s.store.NotificationGet(ctx, userID, id)
	return it, wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
}

// UnreadCounts counts a user's unread, visible notifications per in-app
// channel.
func (s *Service) UnreadCounts(ctx context.Context, userID string) (map[Channel]int, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return nil, err
	}
	c, err := s.store.NotificationCountUnread(ctx, userID, s.disp.Now())
	return c, wrap("unread counts", err)
}

// MarkRead marks one of a user's notifications read.
func (s *Service) MarkRead(ctx context.Context, userID string, id int64) error {
	if err := store.CheckID("user_id", userID); err != nil {
		return err
	}
	now := s.disp.Now()
	err := s.store.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: userID, ID: id, ReadAt: &now, At: now})
	s.changed(userID, err)
	return wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
}

// MarkUnread marks one of a user's notifications unread again.
func (s *Service) MarkUnread(ctx context.Context, userID string, id int64) error {
	if err := store.CheckID("user_id", userID); err != nil {
		return err
	}
	err := s.store.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: userID, ID: id, At: s.disp.Now()})
	s.changed(userID, err)
	return wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
}

// MarkAllRead marks every visible unread notification of a user in an
// in-app channel (in all of them when ch is empty) read, and returns how
// many.
func (s *Service) MarkAllRead(ctx context.Context, userID string, ch Channel) (int, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return 0, err
	}
	if ch != "" && !ch.InApp() {
		return 0, store.Invalid("channel", "%q is not an in-app channel (message, header_message, alert)", ch)
	}
	n, err := s.store.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: userID, Channel: ch, At: s.disp.Now()})
	if n > 0 {
		s.changed(userID, err)
	}
	return n, wrap("mark all read", err)
}

// Postpone hides one of a user's notifications until the given time, or for
// the configured default (7 days) when until is nil. It shows again, at
// the top, when that time comes.
func (s *Service) Postpone(ctx context.Context, userID string, id int64, until *time.Time) (time.Time, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return time.Time{}, err
	}
	now := s.disp.Now()
	t := now.Add(s.cfg.PostponeDefault.D())
	if until != nil {
		if !until.After(now) {
			return time.Time{}, store.Invalid("until", "must be in the future")
		}
		t = *until
	}
	err := s.store.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: userID, ID: id, Until: t, At: now})
	s.changed(userID, err)
	if err != nil {
		return time.Time{}, wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
	}
	return t.UTC(), nil
}

// Archive moves one of a user's notifications to the archive: it leaves
// the inbox and the unread counts, and is kept (ArchivedAt tells when).
func (s *Service) Archive(ctx context.Context, userID string, id int64) error {
	if err := store.CheckID("user_id", userID); err != nil {
		return err
	}
	now := s.disp.Now()
	err := s.store.NotificationSetArchived(ctx, &store.NotificationSetArchivedParams{UserID: userID, ID: id, ArchivedAt: &now, At: now})
	s.changed(userID, err)
	return wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
}

// Unarchive brings one of a user's archived notifications back to the inbox.
func (s *Service) Unarchive(ctx context.Context, userID string, id int64) error {
	if err := store.CheckID("user_id", userID); err != nil {
		return err
	}
	err := s.store.NotificationSetArchived(ctx, &store.NotificationSetArchivedParams{UserID: userID, ID: id, At: s.disp.Now()})
	s.changed(userID, err)
	return wrap(fmt.Sprintf("notification %d of user %q", id, userID), err)
}
