package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/negotiate"
	"github.com/cloche/cloche/internal/store"
)

// The in-app notifications of one user, under two prefixes that share these
// handlers: /api/v1/me (a user token: its own user) and /api/v1/users/{id}
// (an API key: any user, as the command line's inbox commands).

// inboxUser is whose notifications a request is about: the token's user,
// or the path's.
func inboxUser(r *http.Request) string {
	if u := infoOf(r.Context()).userID; u != "" {
		return u
	}
	return r.PathValue("id")
}

// listNotifications: GET …/notifications?channel=&unread=&archived=&cursor=&limit=,
// newest first; unread=true leaves out the read ones; archived=true lists
// the archive instead of the inbox. First pages come
// from the inbox cache when it has them.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	q := cloche.InboxQuery{UserID: inboxUser(r), Cursor: queryOf(r).Get("cursor")}
	var err error
	if q.Channel, err = queryChannel(r); err != nil {
		return err
	}
	unread, err := queryBool(r, "unread")
	if err != nil {
		return err
	}
	q.All = !unread
	if q.Archived, err = queryBool(r, "archived"); err != nil {
		return err
	}
	if q.Limit, err = queryLimit(r, 20, 200); err != nil {
		return err
	}
	if q.Cursor != "" {
		ctx, cancel := s.bounded(r)
		defer cancel()
		p, err := s.svc.Inbox(ctx, q)
		if err != nil {
			return err
		}
		b, err := encodeInboxPage(p)
		if err != nil {
			return err
		}
		writeRawJSON(w, http.StatusOK, b)
		return nil
	}
	key := "page:" + string(q.Channel) + ":" + strconv.FormatBool(q.All) + ":" + strconv.FormatBool(q.Archived) + ":" + strconv.Itoa(q.Limit)
	return s.cachedInbox(w, r, q.UserID, key, func(ctx context.Context) ([]byte, time.Time, error) {
		p, err := s.svc.Inbox(ctx, q)
		if err != nil {
			return nil, time.Time{}, err
		}
		b, err := encodeInboxPage(p)
		return b, firstExpiry(p.Items), err
	})
}

// encodeInboxPage encodes a page as encodeJSON(newPage(…)) would, by hand
// (inboxjson.go) when it can.
func encodeInboxPage(p *cloche.InboxPage) ([]byte, error) {
	if b, ok := appendInboxPage(make([]byte, 0, 64+512*len(p.Items)), p.Items, p.Next); ok {
		return b, nil
	}
	return encodeJSON(newPage(p.Items, p.Next))
}

// cachedInbox answers user's query from the inbox cache, or with read's
// answer, which it keeps until the user's inbox changes, the cache's TTL
// or the time read gives (when not zero), whichever comes first. A big
// answer goes gzipped to a client that accepts it.
func (s *Server) cachedInbox(w http.ResponseWriter, r *http.Request, user, query string, read func(ctx context.Context) ([]byte, time.Time, error)) error {
	now := s.svc.Now()
	a, ok := s.inbox.Get(user, query, now)
	if !ok {
		t := s.inbox.Begin(user)
		ctx, cancel := s.bounded(r)
		defer cancel()
		b, until, err := read(ctx)
		if err != nil {
			return err
		}
		a = s.inbox.Put(t, query, b, now, until)
	}
	w.Header().Add("Vary", "Accept-Encoding")
	if a.Gzip != nil && negotiate.AcceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		writeRawJSON(w, http.StatusOK, a.Gzip)
		return nil
	}
	writeRawJSON(w, http.StatusOK, a.Body)
	return nil
}

// firstExpiry is when the first of items expires (zero: none does).
func firstExpiry(items []cloche.InboxItem) time.Time {
	var first time.Time
	for i := range items {
		if e := items[i].ExpiresAt; e != nil && (first.IsZero() || e.Before(first)) {
			first = *e
		}
	}
	return first
}

// showNotification: GET …/notifications/{nid}. Another user's
// notification is not found.
func (s *Server) showNotification(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	it, err := s.svc.Notification(r.Context(), inboxUser(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

// counts is the answer of …/counts.
type counts struct {
	Unread map[cloche.Channel]int `json:"unread"`
	Total  int                    `json:"total"`
}

// unreadCounts: GET …/counts, unread visible notifications per in-app
// channel, from the inbox cache when it has them.
func (s *Server) unreadCounts(w http.ResponseWriter, r *http.Request) error {
	user := inboxUser(r)
	return s.cachedInbox(w, r, user, "counts", func(ctx context.Context) ([]byte, time.Time, error) {
		m, err := s.svc.UnreadCounts(ctx, user)
		if err != nil {
			return nil, time.Time{}, err
		}
		c := counts{Unread: m}
		for _, n := range m {
			c.Total += n
		}
		b, err := encodeJSON(c)
		return b, time.Time{}, err
	})
}

// markRead: POST …/notifications/{nid}/read
func (s *Server) markRead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	if err := s.svc.MarkRead(r.Context(), inboxUser(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// markUnread: POST …/notifications/{nid}/unread
func (s *Server) markUnread(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	if err := s.svc.MarkUnread(r.Context(), inboxUser(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readAllRequest is the optional body of …/notifications/read-all.
type readAllRequest struct {
	Channel cloche.Channel `json:"channel"`
}

// markAllRead: POST …/notifications/read-all {"channel": "message"} marks
// every visible unread notification of a channel (all when none is given)
// read.
func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request) error {
	var req readAllRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	n, err := s.svc.MarkAllRead(r.Context(), inboxUser(r), req.Channel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Marked int `json:"marked"`
	}{n})
	return nil
}

// postponeRequest is the optional body of …/postpone.
type postponeRequest struct {
	Until *datetimeField `json:"until"`
}

// postpone: POST …/notifications/{nid}/postpone {"until": datetime} hides
// a notification until then (postpone_default, 7 days, when no until is
// given); it comes back at the top.
func (s *Server) postpone(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	req := postponeRequest{}
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	var until *time.Time
	if req.Until != nil {
		t, err := parseDatetime(req.Until.raw, s.svc.Location())
		if err != nil {
			return requiredField("until", err.Error())
		}
		until = &t
	}
	at, err := s.svc.Postpone(r.Context(), inboxUser(r), id, until)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID        int64     `json:"id"`
		VisibleAt time.Time `json:"visible_at"`
	}{id, at})
	return nil
}

// datetimeField keeps a datetime string to read in the server's zone.
type datetimeField struct{ raw string }

func (d *datetimeField) UnmarshalJSON(b []byte) error {
	s, err := jsonString(b)
	if err != nil {
		return requiredField("until", `must be a datetime string, e.g. "2026-12-05T09:00:00+01:00"`)
	}
	d.raw = s
	return nil
}

// archive: POST …/notifications/{nid}/archive moves a notification to the
// archive: it leaves the inbox and the unread counts, and is kept.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	if err := s.svc.Archive(r.Context(), inboxUser(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unarchive: POST …/notifications/{nid}/unarchive brings it back.
func (s *Server) unarchive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	if err := s.svc.Unarchive(r.Context(), inboxUser(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// runAction: POST …/notifications/{nid}/actions/{n} runs action n (from
// 0) of a notification whose action has a callback: Cloche POSTs to the
// host, signed, and answers 200 with what the host answered
// ({"ok": true, "status": 200} or {"ok": false, "reason": …}).
func (s *Server) runAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "nid")
	if err != nil {
		return err
	}
	v := r.PathValue("n")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n >= store.MaxActions {
		return paramError("n", "%q is not an action number (0 to %d)", v, store.MaxActions-1)
	}
	res, err := s.svc.RunAction(r.Context(), inboxUser(r), id, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
