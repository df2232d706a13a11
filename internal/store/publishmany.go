package store

import "time"

// EventPublication is one event of EventPublishMany: its resolved routes
// on one in-app channel, fanned out to every active user they reach with
// no preference filter (NotificationFanOutParams without Prefs, Also or
// AccountType), and what its finish records (EventFinishParams).
type EventPublication struct {
	EventID    int64
	Channel    Channel
	GroupNames []string
	UserIDs    []string
	CompanyID  string
	ExpiresAt  *time.Time
	Reason     string
	Report     *SendReport
}

// EventPublishManyParams publish several events at once, at At.
type EventPublishManyParams struct {
	Events []EventPublication
	At     time.Time
}

// CheckPublishMany refuses what EventPublishMany cannot do: a channel
// that creates no notification, an event named twice.
func CheckPublishMany(p *EventPublishManyParams) error {
	seen := make(map[int64]bool, len(p.Events))
	for i := range p.Events {
		e := &p.Events[i]
		if !e.Channel.Notifies() {
			return Invalid("channel", "%q is not an in-app channel", e.Channel)
		}
		if seen[e.EventID] {
			return Invalid("events", "event %d is named twice", e.EventID)
		}
		seen[e.EventID] = true
	}
	return nil
}

// CheckFinishMany refuses what EventFinishMany cannot do: a status that
// finishes nothing, an event named twice.
func CheckFinishMany(ps []EventFinishParams) error {
	seen := make(map[int64]bool, len(ps))
	for i := range ps {
		p := &ps[i]
		if p.Status == EventPending || !p.Status.Valid() {
			return Invalid("status", "cannot finish an event as %q", p.Status)
		}
		if seen[p.ID] {
			return Invalid("events", "event %d is named twice", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}
