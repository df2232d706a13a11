package cloche

import "github.com/cloche/cloche/internal/store"

// InboxWatcher hears that the in-app notifications of users changed: new
// ones, read, unread, postponed, or a type's status mark. all means that
// anyone's may have changed. It is how caches of inbox reads stay fresh
// (the HTTP API keeps one); it must return quickly.
type InboxWatcher func(users []string, all bool)

// WatchInboxes registers fn. It hears of this process's writes as soon as
// they commit, and of other processes' writes through the live feed, as
// streams do: at once on PostgreSQL; on SQLite within the realtime poll
// interval. A user's new notifications written by another process are
// heard of only while that user has a stream open here; a cache must
// bound its answers' age for the others.
func (s *Service) WatchInboxes(fn InboxWatcher) {
	for {
		old := s.watchers.Load()
		var next []InboxWatcher
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, fn)
		if s.watchers.CompareAndSwap(old, &next) {
			return
		}
	}
}

// inboxesChanged tells the watchers.
func (s *Service) inboxesChanged(users []string, all bool) {
	if ws := s.watchers.Load(); ws != nil {
		for _, fn := range *ws {
			fn(users, all)
		}
	}
}

// published tells the watchers whose inboxes an event's fan-out reached.
// Only a list of user ids names them; groups, a company or a follower are
// resolved in the database, so anyone's inbox may have changed.
func (s *Service) published(ev *store.Event) {
	inApp := ev.Channel.InApp()
	for ch, n := range ev.Counts {
		// A preference may add an in-app channel to an e-mail type.
		inApp = inApp || (ch.InApp() && n > 0)
	}
	if !inApp {
		return
	}
	r := ev.Recipients
	if len(r.GroupNames) == 0 && r.CompanyID == "" && r.FollowerUserID == "" {
		s.inboxesChanged(r.UserIDs, false)
		return
	}
	s.inboxesChanged(nil, true)
}

// changed follows a successful write to userID's notifications: the
// watchers hear of it, and the live streams read it at once.
func (s *Service) changed(userID string, err error) {
	if err != nil {
		return
	}
	s.inboxesChanged([]string{userID}, false)
	s.hub.Wake()
}
