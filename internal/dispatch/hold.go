package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloche/cloche/internal/quiet"
	"github.com/cloche/cloche/internal/store"
)

// holdEmail gives the e-mail deliveries of a just published event their
// not-before time (README, "Preferences"), after every channel's fan-out
// (the unread delay applies only to people who got an in-app
// notification of the event):
//
//   - e-mail only if unread: a person's email_if_unread_minutes, else
//     the type's, when they also have an in-app notification of the event:
//     the e-mail waits that long and is skipped if the notification was
//     read meanwhile;
//   - quiet hours: an e-mail that would leave (at once, or when the delay
//     ends) inside the person's quiet hours, in their zone, waits until
//     they end.
//
// A mandatory type ignores quiet hours and the person's own delay (the
// type's, an operator's choice, still applies). Only the people with a
// setting (or all, with a type delay) are read, in one query.
func (d *Dispatcher) holdEmail(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time) error {
	t, err := tx.TypeGet(ctx, ev.Key)
	if err != nil || (t.Mandatory && t.EmailIfUnreadMinutes <= 0) {
		return err // a mandatory type is held by its own delay only
	}
	cands, err := tx.DeliveryHoldCandidates(ctx, ev.ID, t.EmailIfUnreadMinutes)
	if err != nil || len(cands) == 0 {
		return err
	}
	holds := make([]store.DeliveryHoldParams, 0, len(cands))
	memo := &holdMemo{}
	for _, c := range cands {
		h, ok := d.hold(c, t, now, memo)
		if ok {
			holds = append(holds, h)
		}
	}
	return tx.DeliveryHold(ctx, holds)
}

// holdMemo keeps what one publication read of stored zones and windows:
// many people share them, and loading a zone parses the database.
type holdMemo struct {
	zones   map[string]*time.Location
	windows map[string]*quiet.Window
}

// hold works out one candidate's not-before time; false: leave at once.
func (d *Dispatcher) hold(c store.HoldCandidate, t *store.NotificationType, now time.Time, memo *holdMemo) (store.DeliveryHoldParams, bool) {
	h := store.DeliveryHoldParams{ID: c.DeliveryID, NotBefore: now}
	minutes := t.EmailIfUnreadMinutes
	if c.EmailIfUnreadMinutes != nil && !t.Mandatory {
		minutes = *c.EmailIfUnreadMinutes
	}
	if minutes > 0 && c.InApp {
		h.NotBefore, h.Reason, h.UnlessRead = now.Add(time.Duration(minutes)*time.Minute), store.HoldUnread, true
	}
	if c.QuietHours != "" && !t.Mandatory {
		w, loc, err := d.quietWindow(c, memo)
		if err != nil {
			// Stored settings were checked when saved: a zone removed from
			// the database since, say. Never hold on a guess.
			d.logger.Warn("quiet hours ignored", "user_id", c.UserID, "err", err)
		} else if next := quiet.NextAllowed(h.NotBefore, loc, w); next.After(h.NotBefore) {
			h.NotBefore, h.Reason = next, store.HoldQuietHours
		}
	}
	return h, h.NotBefore.After(now)
}

// quietWindow reads a candidate's stored quiet hours and zone.
func (d *Dispatcher) quietWindow(c store.HoldCandidate, memo *holdMemo) (*quiet.Window, *time.Location, error) {
	if memo.windows == nil {
		memo.windows, memo.zones = map[string]*quiet.Window{}, map[string]*time.Location{}
	}
	w, ok := memo.windows[c.QuietHours]
	if !ok {
		var hours quiet.Hours
		if err := json.Unmarshal([]byte(c.QuietHours), &hours); err != nil {
			return nil, nil, fmt.Errorf("quiet hours %q: %w", c.QuietHours, err)
		}
		checked, err := hours.Check("quiet_hours")
		if err != nil {
			return nil, nil, err
		}
		w = &checked
		memo.windows[c.QuietHours] = w
	}
	loc, ok := memo.zones[c.TimeZone]
	if !ok {
		loc = d.cfg.Zone
		if c.TimeZone != "" {
			var err error
			if loc, err = quiet.LoadZone("time_zone", c.TimeZone); err != nil {
				return nil, nil, err
			}
		}
		if loc == nil {
			loc = time.UTC
		}
		memo.zones[c.TimeZone] = loc
	}
	return w, loc, nil
}
