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
// the others are published one by one as before (publishTx); then all of
// them are reported on from what the batch read of the directory at once
// (batchTx), fanned out and finished in one statement (EventPublishMany,
// which takes only those still pending), and the expired ones finished in
// another (EventFinishMany). The publish hooks then run for each, in the
// same transaction. An event takes this path when its plan
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
	var published []*store.Event
	if len(set.events) > 0 {
		ps := make([]store.EventPublication, len(set.events))
		for i, s := range set.events {
			rep, err := directory.Report(ctx, tx, s.rt, nil)
			if err != nil {
				return nil, err
			}
			reason := ""
			if s.rt.FollowerFallback {
				reason = "follower_user_id has no active follower: sent to the fallback groups"
			}
			ps[i] = store.EventPublication{EventID: s.ev.ID, Channel: s.ev.Channel, GroupNames: s.rt.GroupNames,
				UserIDs: s.rt.UserIDs, CompanyID: s.rt.CompanyID, ExpiresAt: s.ev.Until, Reason: reason, Report: rep}
		}
		counts, err := tx.EventPublishMany(ctx, &store.EventPublishManyParams{Events: ps, At: now})
		if err != nil {
			return nil, err
		}
		for i, s := range set.events {
			n, ok := counts[s.ev.ID]
			if !ok {
				continue
			}
			t := now
			s.ev.Status, s.ev.Counts, s.ev.StatusReason, s.ev.Report = store.EventPublished, map[store.Channel]int{s.ev.Channel: n}, ps[i].Reason, ps[i].Report
			s.ev.PublishedAt = &t
			for _, h := range d.hooks {
				if err := h.PublishedTx(ctx, tx, s.ev, now); err != nil {
					return nil, err
				}
			}
			published = append(published, s.ev)
		}
	}
	if len(set.expired) > 0 {
		if _, err := tx.EventFinishMany(ctx, set.expired); err != nil {
			return nil, err
		}
	}
	return published, nil
}
