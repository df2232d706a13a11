package dispatch

import (
	"context"
	"slices"
	"time"

	"github.com/cloche/cloche/internal/directory"
	"github.com/cloche/cloche/internal/store"
)

// channelPlan is one channel an event's publication fans out to, and the
// preference filter its fan-out applies (nil: everybody reached gets it).
type channelPlan struct {
	channel store.Channel
	filter  *store.PreferenceFilter
}

// planChannels applies the preference rules (README, "Preferences") to
// an event: which channels its fan-out visits and how each filters. It
// reads one summary of the settings that exist for the type and its
// category; the filtering itself happens in the fan-out queries. Where
// nobody set anything, the plan is the type's channel alone, unfiltered:
// exactly what a publication did before preferences.
func planChannels(ctx context.Context, q store.Queries, ev *store.Event) ([]channelPlan, error) {
	if ev.ForceChannel != "" {
		// The sender's decision: delivered whatever the preferences.
		return []channelPlan{{channel: ev.Channel}}, nil
	}
	t, err := q.TypeGet(ctx, ev.Key)
	if err != nil {
		return nil, err
	}
	sum, err := q.PreferenceSummary(ctx, ev.Key)
	if err != nil {
		return nil, err
	}
	var plans []channelPlan
	for _, ch := range store.Channels {
		isDefault := ch == ev.Channel
		if isDefault && t.Mandatory {
			plans = append(plans, channelPlan{channel: ch})
			continue
		}
		fallback, set := sum.Defaults[ch]
		if !set {
			fallback = isDefault
		}
		// Only the type's channel is one where a preference can take
		// something away from somebody: the others are reported on.
		skips := isDefault && (!fallback || sum.UsersOff[ch])
		if !fallback && !sum.UsersOn[ch] && !skips {
			continue
		}
		p := channelPlan{channel: ch}
		if !fallback || sum.UsersOff[ch] {
			p.filter = &store.PreferenceFilter{
				EventID: ev.ID, Key: ev.Key, Category: store.Category(ev.Key),
				Channel: ch, Fallback: fallback, Skips: skips,
			}
		}
		plans = append(plans, p)
	}
	// The type's channel first, as before.
	slices.SortStableFunc(plans, func(a, b channelPlan) int {
		switch {
		case a.channel == ev.Channel:
			return -1
		case b.channel == ev.Channel:
			return 1
		}
		return 0
	})
	return plans, nil
}

// alsoInApp are in-app channels fanned out with another's statement.
type alsoInApp struct {
	with    store.Channel
	filters []*store.PreferenceFilter
}

// joinInApp takes out of plans the in-app channels only a few people's
// settings turn on (a filter of fallback off, no skips to record) when
// another in-app channel reaches most people (no filter, or a fallback of
// on): that one's fan-out writes theirs in the same pass over the
// recipients, each person's rows side by side (store.NotificationFanOutParams.Also).
func joinInApp(plans []channelPlan) ([]channelPlan, alsoInApp) {
	var also alsoInApp
	i := slices.IndexFunc(plans, func(p channelPlan) bool {
		return p.channel.InApp() && (p.filter == nil || p.filter.Fallback)
	})
	if i < 0 {
		return plans, also
	}
	also.with = plans[i].channel
	kept := plans[:0:0]
	for _, p := range plans {
		if p.channel != also.with && p.channel.InApp() && p.filter != nil && !p.filter.Fallback && !p.filter.Skips {
			also.filters = append(also.filters, p.filter)
			continue
		}
		kept = append(kept, p)
	}
	return kept, also
}

// fanOutEmail queues the e-mails of an event to the recipients rt reaches
// whom the preferences give e-mail. The settings that differ from the
// fallback (few) are read first: where e-mail is on by default, the
// recipients are read as before, less those exceptions; where it is off,
// only the exceptions' contacts are read. A company's own address is no
// person's: only the organisation default turns it off.
func (d *Dispatcher) fanOutEmail(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time, rt *directory.Routes, f *store.PreferenceFilter) (int, []string, error) {
	var (
		emails  []store.DeliveryRecipient
		noEmail []string
		err     error
	)
	switch {
	case f == nil:
		emails, noEmail, err = directory.Emails(ctx, tx, rt)
	case !f.Fallback && !f.Skips:
		var on []string
		if on, err = tx.PreferenceExceptions(ctx, f); err == nil && len(on) > 0 {
			emails, noEmail, err = directory.EmailsAmong(ctx, tx, rt, on)
		}
	default:
		var ex []string
		if ex, err = tx.PreferenceExceptions(ctx, f); err != nil {
			return 0, nil, err
		}
		exception := make(map[string]bool, len(ex))
		for _, id := range ex {
			exception[id] = true
		}
		var skipped []string
		keep := func(id string) bool {
			if on := f.Fallback != exception[id]; on {
				return true
			}
			skipped = append(skipped, id)
			return false
		}
		if emails, noEmail, err = directory.EmailsWhere(ctx, tx, rt, keep); err != nil {
			return 0, nil, err
		}
		// A company's own address is no person's: only the organisation
		// default (the fallback) turns it off.
		emails = slices.DeleteFunc(emails, func(e store.DeliveryRecipient) bool { return e.UserID == "" && !f.Fallback })
		if f.Skips {
			err = tx.PreferenceSkipInsert(ctx, ev.ID, f.Channel, skipped)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if emails, err = holdForDigests(ctx, tx, ev, now, emails); err != nil {
		return 0, nil, err
	}
	n, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, Recipients: emails, CreatedAt: now})
	if err != nil {
		return 0, nil, err
	}
	if n > 0 && d.mailer != nil {
		if err := d.mailer.EnqueueTx(ctx, tx, ev.ID); err != nil {
			return 0, nil, err
		}
	}
	return n, noEmail, nil
}
