package realtime

import (
	"context"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Backoff of the listening connection and of failed polls.
const (
	backoffFirst = 100 * time.Millisecond
	backoffMost  = 10 * time.Second
)

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// poll follows a store whose ids are assigned in commit order (SQLite):
// every PollInterval, or at once when woken, it reads what was committed
// after the last ids it saw.
func (h *Hub) poll(ctx context.Context) {
	var head store.FeedHead
	for backoff := backoffFirst; ; backoff = min(2*backoff, backoffMost) {
		var err error
		if head, err = h.st.FeedHead(ctx); err == nil {
			break
		}
		h.logger.WarnContext(ctx, "realtime: read the feed head", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
	}
	// Streams opened before the head was read may have missed rows
	// committed meanwhile.
	h.resyncAll()
	t := time.NewTimer(h.pollEvery())
	defer t.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.wake:
		}
		t.Reset(h.pollEvery())
		next, err := h.pollOnce(ctx, head)
		head = next // what was delivered, even when a later read failed
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failed {
				h.logger.WarnContext(ctx, "realtime: poll the feed", "err", err)
			}
			failed = true
			continue
		case failed:
			h.logger.InfoContext(ctx, "realtime: polling the feed again")
			failed = false
		}
	}
}

// idlePoll is how often a polling hub with no stream open looks at the
// feed: only for Changed (inbox caches, whose entries live about as long),
// and so that a quiet server stays quiet. The first stream wakes it.
const idlePoll = time.Second

// pollEvery is the wait before the next look at the feed: PollInterval
// while streams are open, idlePoll (or PollInterval, when longer) while
// none is.
func (h *Hub) pollEvery() time.Duration {
	if h.OpenStreams() > 0 {
		return h.cfg.PollInterval
	}
	return max(h.cfg.PollInterval, idlePoll)
}

// pollOnce delivers what was committed after last, and returns the new
// position: how far it delivered, also when it fails.
func (h *Hub) pollOnce(ctx context.Context, last store.FeedHead) (store.FeedHead, error) {
	defer h.delivering()()
	for {
		var byUser map[string]*message
		var next store.FeedHead
		more := false
		// One read transaction: the head and the rows after the last
		// position are of one snapshot, and every id up to the head is
		// in it (ids come in commit order).
		err := h.st.ReadTx(ctx, func(ctx context.Context, q store.Queries) error {
			now, err := q.FeedHead(ctx)
			if err != nil {
				return err
			}
			next = now
			if now == last {
				return nil
			}
			users, all := h.subscribedUsers()
			if !all && len(users) == 0 && !h.watching() {
				return nil
			}
			var items []store.InboxItem
			if now.NotificationID > last.NotificationID && (all || len(users) > 0) {
				p := &store.NotificationFeedParams{AfterID: last.NotificationID, Limit: feedChunk,
					Expect: int(min(now.NotificationID-last.NotificationID, feedChunk))}
				if !all {
					p.UserIDs = users
				}
				if items, err = q.NotificationFeed(ctx, p); err != nil {
					return err
				}
			}
			if len(items) == feedChunk {
				// The changes come after the last chunk of items, as
				// they did after the items of one read.
				next.NotificationID, next.ChangeID, more = items[len(items)-1].ID, last.ChangeID, true
				byUser = h.prepare(items, nil)
				return nil
			}
			var changes []store.NotificationChange
			if now.ChangeID > last.ChangeID {
				if changes, err = q.ChangeList(ctx, &store.ChangeListParams{AfterID: last.ChangeID, Limit: feedBatch}); err != nil {
					return err
				}
			}
			if len(changes) == feedBatch {
				next.ChangeID, more = changes[len(changes)-1].ID, true
			}
			byUser = h.prepare(items, changes)
			return nil
		})
		if err != nil {
			return last, err
		}
		h.send(byUser)
		last = next
		if !more {
			return last, nil
		}
	}
}

// listen follows a store that signals its commits (PostgreSQL): one
// goroutine listens, reconnecting with backoff, another reads what the
// signals name and delivers it. After each (re)connection every stream
// catches up from the database, since signals sent meanwhile were lost.
func (h *Hub) listen(ctx context.Context) {
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		h.dispatchSignals(ctx)
	}()
	defer func() { <-dispatched }()
	backoff := backoffFirst
	for {
		err := h.listener.ListenFeed(ctx, func() {
			if backoff > backoffFirst {
				h.logger.InfoContext(ctx, "realtime: listening again")
			}
			backoff = backoffFirst
			h.enqueue(store.FeedSignal{Kind: store.SignalResync})
		}, h.enqueue)
		if ctx.Err() != nil {
			return
		}
		h.logger.WarnContext(ctx, "realtime: listening failed", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, backoffMost)
	}
}

// enqueue hands a signal to the dispatcher without blocking the listener.
func (h *Hub) enqueue(sig store.FeedSignal) {
	h.sigMu.Lock()
	switch {
	case sig.Kind == store.SignalResync:
		h.resync = true
	case len(h.pending) >= maxPendingSignals:
		// The dispatcher is far behind: drop the backlog, catch up.
		h.pending, h.resync = nil, true
	default:
		h.pending = append(h.pending, sig)
	}
	h.sigMu.Unlock()
	select {
	case h.sigWake <- struct{}{}:
	default:
	}
}

// dispatchSignals delivers what the signals name, a batch at a time.
func (h *Hub) dispatchSignals(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.sigWake:
		}
		for ctx.Err() == nil {
			h.sigMu.Lock()
			batch, resync := h.pending, h.resync
			h.pending, h.resync = nil, false
			h.sigMu.Unlock()
			if resync {
				h.resyncAll()
			}
			if len(batch) == 0 {
				break
			}
			if err := h.dispatch(ctx, batch); err != nil && ctx.Err() == nil {
				// What the signals named is lost to the streams: they
				// catch up from the database themselves.
				h.logger.WarnContext(ctx, "realtime: read signalled rows", "err", err)
				h.resyncAll()
			}
		}
	}
}

// dispatch reads the rows a batch of signals names and delivers them.
func (h *Hub) dispatch(ctx context.Context, batch []store.FeedSignal) error {
	h.announceSignals(batch)
	users, all := h.subscribedUsers()
	if !all && len(users) == 0 {
		return nil
	}
	var ranges []store.FeedRange
	var changeIDs []int64
	for _, sig := range batch {
		switch sig.Kind {
		case store.SignalNotifications:
			ranges = append(ranges, sig.Range)
		case store.SignalChange:
			if sig.UserID == "" || h.subscribed(sig.UserID) {
				changeIDs = append(changeIDs, sig.ChangeID)
			}
		}
	}
	if len(ranges) == 0 && len(changeIDs) == 0 {
		return nil
	}
	defer h.delivering()()
	// The streams write a chunk's items while the next is read; the
	// changes come with the last, after the items as in one read.
	parts := chunkRanges(ranges, feedChunk)
	for i, part := range parts {
		var ids []int64
		if i == len(parts)-1 {
			ids = changeIDs
		}
		if err := h.dispatchPart(ctx, part, ids, users, all); err != nil {
			return err
		}
	}
	return nil
}

// chunkRanges cuts ranges into parts spanning about n ids each (a range
// longer than n is cut); there is always one part, maybe empty.
func chunkRanges(ranges []store.FeedRange, n int64) [][]store.FeedRange {
	parts := [][]store.FeedRange{nil}
	span := int64(0)
	for _, r := range ranges {
		for r.FirstID <= r.LastID {
			if span >= n {
				parts, span = append(parts, nil), 0
			}
			piece := r
			piece.LastID = min(r.LastID, r.FirstID+n-span-1)
			parts[len(parts)-1] = append(parts[len(parts)-1], piece)
			span += piece.LastID - piece.FirstID + 1
			r.FirstID = piece.LastID + 1
		}
	}
	return parts
}

// dispatchPart reads and delivers the rows of ranges and the changes ids.
func (h *Hub) dispatchPart(ctx context.Context, ranges []store.FeedRange, changeIDs []int64, users []string, all bool) error {
	if len(ranges) == 0 && len(changeIDs) == 0 {
		return nil
	}
	var byUser map[string]*message
	err := h.st.ReadTx(ctx, func(ctx context.Context, q store.Queries) error {
		var items []store.InboxItem
		if len(ranges) > 0 {
			p := &store.NotificationFeedParams{Ranges: ranges, Limit: 100000}
			if !all {
				p.UserIDs = users
			}
			var err error
			if items, err = q.NotificationFeed(ctx, p); err != nil {
				return err
			}
			if len(items) == p.Limit {
				h.resyncAll()
			}
		}
		var changes []store.NotificationChange
		if len(changeIDs) > 0 {
			var err error
			if changes, err = q.ChangeList(ctx, &store.ChangeListParams{IDs: changeIDs, Limit: len(changeIDs)}); err != nil {
				return err
			}
		}
		byUser = h.prepare(items, changes)
		return nil
	})
	if err != nil {
		return err
	}
	h.send(byUser)
	return nil
}

// announceSignals tells Changed whose notifications the changes of batch
// are about, whether or not they have a stream (the signal names the
// user). New notifications are announced when read for the streams
// (prepare): their signal names no user.
func (h *Hub) announceSignals(batch []store.FeedSignal) {
	if h.cfg.Changed == nil {
		return
	}
	var users []string
	for _, sig := range batch {
		if sig.Kind != store.SignalChange {
			continue
		}
		if sig.UserID == "" {
			h.cfg.Changed(nil, true)
			return
		}
		users = append(users, sig.UserID)
	}
	if len(users) > 0 {
		h.cfg.Changed(users, false)
	}
}
