package dispatch

import (
	"context"

	"github.com/cloche/cloche/internal/directory"
	"github.com/cloche/cloche/internal/store"
)

// How a batch of due events is published in a few statements.
//
// Most due events (reminders) go to a few people on one in-app channel,
// with nobody's preferences in the way. Published one by one, each costs
// its fan-out, its report's reads and its finish: on PostgreSQL, a round
// trip each. In a batch, those events are set aside (publishSet) while
// the others are published one by one as before (publishTx), then all of
// them are fanned out in one statement (NotificationFanOutMany, which
// locks those still pending), reported on from what the batch read of
// the directory at once (batchTx), and finished in one statement
// (EventFinishMany) with the expired ones. The publish hooks then run for
// each, in the same transaction. An event takes this path when its plan
// is its in-app channel alone, unfiltered (planChannels), and no account
// type is among its routes; e-mail, push, preferences, holds and account
// types keep the path of their own.

// setBatch is what a batch sets aside to publish together.
type setBatch struct {
	events []setEvent
	// expired are the finishes of events that fell due after their until.
	expired []store.EventFinishParams
}

// setEvent is an event set aside, and its routes.
type setEvent struct {
	ev *store.Event
	rt *directory.Routes
}

// publishOrSetTx is publishOneTx for a batch: an event the set path can
// publish, or one that expired, is set aside in set (it returns nil);
// another is published at once.
func (d *Dispatcher) publishOrSetTx(ctx context.Context, tx *batchTx, id int64, set *setBatch) (*store.Event, error) {
	ev, err := tx.EventGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if ev.Status != store.EventPending {
		return nil, errAlreadyDone
	}
	now := d.now()
	if d.expired(ev, now) {
		set.expired = append(set.expired, store.EventFinishParams{ID: ev.ID, Status: store.EventExpired, Reason: "fell due after its until", At: now})
		return nil, nil
	}
	ch, err := chooseChannel(ctx, tx, ev.Key, ev.ForceChannel)
	if err != nil {
		return nil, err
	}
	ev.Channel = ch
	rt, ok, err := d.setRoutes(ctx, tx, ev)
	if err != nil {
		return nil, err
	}
	if ok {
		set.events = append(set.events, setEvent{ev: ev, rt: rt})
		return nil, nil
	}
	if _, err := d.publishTx(ctx, tx, ev, now, rt); err != nil {
		return nil, err
	}
	return ev, nil
}

// setRoutes tells whether ev can take the set path and, when it planned
// them, its routes (rt may be set when ok is false: publishTx uses them).
func (d *Dispatcher) setRoutes(ctx context.Context, tx *batchTx, ev *store.Event) (rt *directory.Routes, ok bool, err error) {
	if !ev.Channel.InApp() || ev.Recipients.AccountType != "" {
		return nil, false, nil
	}
	plans, err := planChannels(ctx, tx, ev)
	if err != nil {
		return nil, false, err
	}
	if len(plans) != 1 || plans[0].channel != ev.Channel || plans[0].filter != nil {
		return nil, false, nil
	}
	if rt, err = directory.Plan(ctx, tx, ev.Recipients, ev.Channel, d.cfg.FallbackGroups); err != nil {
		return nil, false, err
	}
	return rt, rt.AccountType == "" && rt.CompanyAddress == nil, nil
}

// publishSet publishes what set holds, inside tx, and returns the events
// it published. An event no longer pending is left alone, as publishTx's
// conditional finish would.
func (d *Dispatcher) publishSet(ctx context.Context, tx *batchTx, set *setBatch) ([]*store.Event, error) {
	now := d.now()
	finish := set.expired
	var kept []setEvent
	if len(set.events) > 0 {
		fo := make([]store.EventFanOut, len(set.events))
		for i, s := range set.events {
			fo[i] = store.EventFanOut{EventID: s.ev.ID, Channel: s.ev.Channel, GroupNames: s.rt.GroupNames,
				UserIDs: s.rt.UserIDs, CompanyID: s.rt.CompanyID, ExpiresAt: s.ev.Until}
		}
		counts, err := tx.NotificationFanOutMany(ctx, &store.NotificationFanOutManyParams{Events: fo, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		for _, s := range set.events {
			n, ok := counts[s.ev.ID]
			if !ok {
				continue
			}
			rep, err := directory.Report(ctx, tx, s.rt, nil)
			if err != nil {
				return nil, err
			}
			reason := ""
			if s.rt.FollowerFallback {
				reason = "follower_user_id has no active follower: sent to the fallback groups"
			}
			s.ev.Status, s.ev.Counts, s.ev.StatusReason, s.ev.Report = store.EventPublished, map[store.Channel]int{s.ev.Channel: n}, reason, rep
			finish = append(finish, store.EventFinishParams{ID: s.ev.ID, Status: store.EventPublished, Reason: reason,
				Channel: s.ev.Channel, Counts: s.ev.Counts, Report: rep, At: now})
			kept = append(kept, s)
		}
	}
	if len(finish) == 0 {
		return nil, nil
	}
	done, err := tx.EventFinishMany(ctx, finish)
	if err != nil {
		return nil, err
	}
	finished := make(map[int64]bool, len(done))
	for _, id := range done {
		finished[id] = true
	}
	published := make([]*store.Event, 0, len(kept))
	for _, s := range kept {
		if !finished[s.ev.ID] {
			// Locked pending by the fan-out: cannot happen, but then the
			// batch goes again one event at a time.
			return nil, store.Errorf(store.ErrConflict, "event %d is no longer pending", s.ev.ID)
		}
		t := now
		s.ev.PublishedAt = &t
		for _, h := range d.hooks {
			if err := h.PublishedTx(ctx, tx, s.ev, now); err != nil {
				return nil, err
			}
		}
		published = append(published, s.ev)
	}
	return published, nil
}
