package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/cloche/cloche/internal/store"
)

const (
	// writeTimeout bounds each write to a client; one that does not read
	// for that long is dropped (it reconnects with its cursor).
	writeTimeout = 20 * time.Second
	// maxCatchUp: a client that missed more than this many notifications
	// or changes is told to reload instead.
	maxCatchUp = 1000
)

// Reasons of a reset event.
const (
	resetInvalid = "invalid_cursor" // the last event id is not one of ours
	resetExpired = "expired"        // older than the retention
	resetTooMany = "too_many"       // more was missed than is worth replaying
)

// ServeStream serves the stream of userID's notifications until the
// client goes away or the hub stops. The caller has authenticated the
// request as userID. A Last-Event-ID header, or a last_event_id query
// parameter (for clients that cannot set headers), resumes after that
// event.
func (h *Hub) ServeStream(w http.ResponseWriter, r *http.Request, userID string) {
	if userID == "" {
		writeError(w, http.StatusUnauthorized, "unauthorized", "the stream needs a user")
		return
	}
	sub, life, err := h.subscribe(userID)
	switch {
	case errors.Is(err, errNotRunning):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "live updates are not running here")
		return
	case errors.Is(err, errTooMany):
		w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.Retry.Seconds())+1))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "too many open streams")
		return
	case errors.Is(err, errUserCap):
		w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.Retry.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("user %q has %d streams open here already (realtime.max_streams_per_user)", userID, h.cfg.MaxPerUser))
		return
	}

	st := &stream{hub: h, sub: sub}
	retry := h.cfg.Retry + rand.N(h.cfg.Retry)
	st.buf = make([]byte, chunkPre, 256)
	st.buf = append(st.buf, "retry: "+strconv.FormatInt(retry.Milliseconds(), 10)+"\n\n"...)
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	// The first events are gathered, not written: the response begins
	// once they are known, so that a failure still answers 503.
	ctx := r.Context()
	if err := st.start(ctx, last); err != nil {
		h.unsubscribe(sub)
		h.streamEnded(ctx, userID, err)
		if ctx.Err() == nil {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the database cannot be read")
		}
		return
	}
	if cs := hijack(w, r); cs != nil {
		// Off the handler: see conn.go.
		st.conn = cs
		sub.probe.Store(cs.c)
		go st.serveConn(life)
		return
	}

	defer h.unsubscribe(sub)
	rc := http.NewResponseController(w)
	// Streams outlive the server's read timeout; its expiry would end them.
	_ = rc.SetReadDeadline(time.Time{})
	st.w, st.rc = w, rc
	err = st.flush()
	if err == nil {
		err = st.loop(ctx, life)
	}
	if err != nil {
		h.streamEnded(ctx, userID, err)
	}
}

// serveConn serves a stream whose connection it took from net/http, until
// the client goes or the hub ends the streams.
func (st *stream) serveConn(life context.Context) {
	defer st.hub.unsubscribe(st.sub)
	err := st.flush()
	if err == nil {
		err = st.loop(life, life)
	}
	// Streams the hub ends (the service stopping) end cleanly, even when
	// a read in flight failed as the service stopped beneath it.
	st.conn.end(err == nil || life.Err() != nil)
	if err != nil {
		st.hub.streamEnded(life, st.sub.userID, err)
	}
}

// loop sends what the hub hands the stream, and keep-alives, until ctx or
// life ends (nil) or a write fails.
func (st *stream) loop(ctx, life context.Context) error {
	h, sub := st.hub, st.sub
	keepAlive := time.NewTicker(h.cfg.KeepAlive)
	defer keepAlive.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-life.Done():
			return nil
		case m := <-sub.msgs:
			err = st.deliverQueued(m)
		case <-sub.wakeup:
			switch {
			case sub.gone.Load():
				err = errHungUp
			case sub.lagged.Load():
				// Clear before reading, so that what the hub skips from
				// now on is either queued or makes us catch up again.
				sub.lagged.Store(false)
				err = st.catchUp(ctx)
			}
		case <-keepAlive.C:
			if st.conn != nil && st.conn.c.hungUp() {
				return errHungUp
			}
			st.buf = append(st.buf, ": keep-alive\n\n"...)
			err = st.flush()
		}
		if err != nil {
			return err
		}
	}
}

func (h *Hub) streamEnded(ctx context.Context, userID string, err error) {
	if ctx.Err() == nil {
		h.logger.DebugContext(ctx, "realtime: stream ended", "user_id", userID, "err", err)
	}
}

// stream is the state of one open stream.
type stream struct {
	hub *Hub
	sub *subscriber
	// Where the events go: the connection taken from net/http, or, when
	// it could not be taken, w (through net/http).
	conn *connSink
	w    http.ResponseWriter
	rc   *http.ResponseController
	// buf gathers the events of one write, after chunkPre bytes kept for
	// the chunk's size line.
	buf []byte
	// started is set once the response has begun (w).
	started  bool
	deadline time.Time // of writes (w)

	cur Cursor
	// sent holds the notifications sent lately, by id, with their
	// creation time: a catch-up and the live feed may both bring one.
	sent      map[int64]time.Time
	countsSeq uint64
	// counts are the unread counts the client was sent last.
	counts    unread
	hasCounts bool
}

// start sends what the client missed since its last event, or the
// current counts to a new client, or a reset when its last event cannot
// be resumed.
func (st *stream) start(ctx context.Context, last string) error {
	h := st.hub
	if last != "" {
		cur, ok := ParseCursor(last)
		switch {
		case !ok:
			return st.reset(ctx, resetInvalid)
		case cur.Time.Before(h.cfg.Clock().Add(-h.cfg.Retention)):
			return st.reset(ctx, resetExpired)
		}
		st.cur = cur
		return st.catchUp(ctx)
	}
	return st.fresh(ctx)
}

// fresh starts the cursor at the present, and sends the counts: the
// stream is subscribed, so what commits from now on reaches it. The head
// and counts are read with those of the other streams opening meanwhile.
func (st *stream) fresh(ctx context.Context) error {
	r, err := st.hub.freshCounts(ctx, st.sub.userID)
	if err != nil {
		return err
	}
	st.cur = Cursor{NotificationID: r.head.NotificationID, ChangeID: r.head.ChangeID, Time: r.at}
	return st.deliver(&message{counts: r.counts, seq: r.seq})
}

// reset tells the client to reload, from a fresh cursor.
func (st *stream) reset(ctx context.Context, reason string) error {
	st.sent = nil
	st.event("reset", map[string]string{"reason": reason})
	return st.fresh(ctx)
}

// catchUp sends, from the database, the user's notifications and changes
// after the cursor, then the counts.
func (st *stream) catchUp(ctx context.Context) error {
	h := st.hub
	p := &store.NotificationSinceParams{UserID: st.sub.userID, CreatedAfter: st.cur.Time.Add(-h.cfg.ResumeWindow), Limit: maxCatchUp + 1}
	if h.ordered {
		p.AfterID = st.cur.NotificationID
	}
	m := &message{seq: h.countsSeq.Add(1)}
	err := st.offStack(func() error {
		return h.st.ReadTx(ctx, func(ctx context.Context, q store.Queries) error {
			var err error
			if m.items, err = q.NotificationSince(ctx, p); err != nil {
				return err
			}
			if m.changes, err = q.ChangeList(ctx, &store.ChangeListParams{UserID: st.sub.userID, AfterID: st.cur.ChangeID, Limit: maxCatchUp + 1}); err != nil {
				return err
			}
			m.counts, err = q.NotificationCountUnread(ctx, st.sub.userID, h.cfg.Clock())
			return err
		})
	})
	if err != nil {
		return err
	}
	if len(m.items) > maxCatchUp || len(m.changes) > maxCatchUp {
		return st.reset(ctx, resetTooMany)
	}
	return st.deliver(m)
}

// offStack runs fn, on a goroutine of its own when the stream is served
// off its handler: the database's call chain is deep, and the stack it
// grew would stay with the stream's goroutine until collections shrink it.
func (st *stream) offStack(fn func() error) error {
	if st.conn == nil {
		return fn()
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return <-done
}

// deliverQueued sends m and whatever else is queued, in one write.
func (st *stream) deliverQueued(m *message) error {
	n := 0
	for range cap(st.sub.msgs) {
		st.add(m)
		n++
		select {
		case m = <-st.sub.msgs:
			continue
		default:
		}
		break
	}
	err := st.flush()
	st.sub.written(n)
	return err
}

// deliver sends a message's events the client has not had yet.
func (st *stream) deliver(m *message) error {
	st.add(m)
	return st.flush()
}

// add appends the events of m the client has not had yet.
func (st *stream) add(m *message) {
	added := unread{}
	fresh := 0
	now := st.hub.cfg.Clock()
	for i := range m.items {
		it := &m.items[i]
		if st.seen(it.ID) {
			continue
		}
		st.remember(it.ID, it.CreatedAt)
		st.cur.advance(it.ID, 0, it.CreatedAt)
		if m.encoded != nil {
			st.eventJSON("notification", m.encoded[i])
		} else {
			st.event("notification", it)
		}
		fresh++
		added.add(it, now)
	}
	for i := range m.changes {
		c := &m.changes[i]
		if c.ID <= st.cur.ChangeID {
			continue
		}
		st.cur.advance(0, c.ID, c.CreatedAt)
		st.event("change", c)
	}
	switch {
	case m.counts != nil && m.seq > st.countsSeq:
		st.countsSeq = m.seq
		c := unreadOf(m.counts)
		if m.followUp && st.hasCounts && c == st.counts {
			return // the client has them
		}
		st.counts, st.hasCounts = c, true
		if m.countsEncoded != nil {
			st.eventJSON("counts", m.countsEncoded)
		} else {
			st.countsEvent()
		}
	case m.counts == nil && fresh > 0 && len(m.changes) == 0 && st.hasCounts:
		// New notifications alone: the counts the client has, plus
		// those of them that are unread, go with them in the same
		// write. The counts read after them (followUp) confirm or
		// correct these.
		st.counts.plus(added)
		st.countsEvent()
	}
}

// countsEvent appends a counts event of st.counts.
func (st *stream) countsEvent() {
	st.eventHead("counts")
	st.buf = st.counts.appendJSON(st.buf)
	st.buf = append(st.buf, "\n\n"...)
}

// unread is the unread counts of the in-app channels: alert,
// header_message, message.
type unread [3]int

func channelIndex(ch store.Channel) int {
	switch ch {
	case store.ChannelAlert:
		return 0
	case store.ChannelHeaderMessage:
		return 1
	case store.ChannelMessage:
		return 2
	}
	return -1
}

func unreadOf(c map[store.Channel]int) unread {
	return unread{c[store.ChannelAlert], c[store.ChannelHeaderMessage], c[store.ChannelMessage]}
}

// add counts it if it is one of the unread counts at now (as
// NotificationCountUnread counts).
func (u *unread) add(it *store.InboxItem, now time.Time) {
	i := channelIndex(it.Channel)
	if i < 0 || it.ReadAt != nil || it.ArchivedAt != nil || it.VisibleAt.After(now) ||
		(it.ExpiresAt != nil && !it.ExpiresAt.After(now)) {
		return
	}
	u[i]++
}

func (u *unread) plus(v unread) {
	for i := range u {
		u[i] += v[i]
	}
}

// appendJSON appends u as encoding/json encodes the counts map (keys
// sorted), without its reflection: every delivery carries them.
func (u unread) appendJSON(b []byte) []byte {
	b = append(b, `{"alert":`...)
	b = strconv.AppendInt(b, int64(u[0]), 10)
	b = append(b, `,"header_message":`...)
	b = strconv.AppendInt(b, int64(u[1]), 10)
	b = append(b, `,"message":`...)
	b = strconv.AppendInt(b, int64(u[2]), 10)
	return append(b, '}')
}

// appendCounts appends counts as encoding/json encodes the map.
func appendCounts(b []byte, c map[store.Channel]int) []byte { return unreadOf(c).appendJSON(b) }

// seen reports whether notification id was sent already.
func (st *stream) seen(id int64) bool {
	if st.hub.ordered && id <= st.cur.NotificationID {
		return true
	}
	_, ok := st.sent[id]
	return ok
}

// remember records a sent notification, forgetting those too old to be
// brought again by a catch-up. Where ids come in commit order, the
// cursor's id tells already (seen): nothing is kept.
func (st *stream) remember(id int64, created time.Time) {
	if st.hub.ordered {
		return
	}
	if st.sent == nil {
		st.sent = map[int64]time.Time{}
	}
	st.sent[id] = created
	if len(st.sent) >= 64 && len(st.sent)%64 == 0 {
		horizon := st.cur.Time.Add(-st.hub.cfg.ResumeWindow)
		for k, t := range st.sent {
			if t.Before(horizon) {
				delete(st.sent, k)
			}
		}
	}
}

// event appends one event, its id the cursor after it. Its data are
// items, changes, counts and reasons, which always encode.
func (st *stream) event(name string, data any) {
	st.eventJSON(name, marshal(name+" event", data))
}

// eventJSON appends one event whose data is encoded already.
func (st *stream) eventJSON(name string, b []byte) {
	st.eventHead(name)
	st.buf = append(st.buf, b...) // JSON has no raw newline
	st.buf = append(st.buf, "\n\n"...)
}

// eventHead appends an event's id and name, up to its data.
func (st *stream) eventHead(name string) {
	st.buf = append(st.buf, "id: "...)
	st.buf = st.cur.append(st.buf)
	st.buf = append(st.buf, "\nevent: "...)
	st.buf = append(st.buf, name...)
	st.buf = append(st.buf, "\ndata: "...)
}

// flush writes what is buffered and pushes it to the client. Until the
// stream has where to write (while it starts), it keeps it.
func (st *stream) flush() error {
	if len(st.buf) == chunkPre {
		return nil
	}
	if st.conn != nil {
		var err error
		st.buf, err = st.conn.write(st.buf)
		st.resetBuf()
		return err
	}
	if st.w == nil {
		return nil
	}
	if !st.started {
		st.started = true
		hdr := st.w.Header()
		hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
		hdr.Set("Cache-Control", "no-cache")
		hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer
		st.w.WriteHeader(http.StatusOK)
	}
	// Move the deadline only when half of it is spent: setting it costs a
	// timer update, which 10,000 streams writing at once notice.
	if now := time.Now(); st.deadline.Sub(now) < writeTimeout/2 {
		st.deadline = now.Add(writeTimeout)
		_ = st.rc.SetWriteDeadline(st.deadline)
	}
	_, err := st.w.Write(st.buf[chunkPre:])
	st.resetBuf()
	if err != nil {
		return err
	}
	return st.rc.Flush()
}

// maxKeptBuf: a buffer grown beyond it by a large write (a catch-up) is
// not kept for the next.
const maxKeptBuf = 16 << 10

func (st *stream) resetBuf() {
	if cap(st.buf) > maxKeptBuf {
		st.buf = make([]byte, chunkPre, 256)
		return
	}
	st.buf = st.buf[:chunkPre]
}

// writeError answers before the stream starts, in the API's error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
