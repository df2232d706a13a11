package cloche

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// DigestSchedule is how often a person receives their e-mail (README,
// "Preferences"): immediate (the default), hourly, daily At "HH:MM", or
// weekly on Day ("monday"…) At "HH:MM", in the person's time zone.
type DigestSchedule struct {
	Frequency string `json:"frequency"`
	At        string `json:"at,omitempty"`
	Day       string `json:"day,omitempty"`
}

// CategoryDigest is a digest schedule for one category (a type key's
// first segment), which overrides the person's own for that category.
type CategoryDigest struct {
	Category string `json:"category"`
	DigestSchedule
}

// DigestChange changes a person's digest schedules with their
// preferences (WithDigests). With Merge, Digest (when set) replaces the person's own
// and each of Categories replaces that category's (frequency "default"
// removes it); without, the schedules are replaced by Digest (nil:
// immediate) and Categories.
type DigestChange struct {
	Digest     *DigestSchedule
	Categories []CategoryDigest
	Merge      bool
}

// checkDigest validates one schedule, naming field in its errors.
func checkDigest(field string, in DigestSchedule, allowDefault bool) (store.DigestSetting, error) {
	s := store.DigestSetting{
		Frequency: store.DigestFrequency(strings.ToLower(strings.TrimSpace(in.Frequency))),
		At:        strings.TrimSpace(in.At), Day: strings.ToLower(strings.TrimSpace(in.Day)),
	}
	if s.Frequency == "" {
		s.Frequency = store.DigestImmediate
	}
	if !s.Frequency.Valid() && !(allowDefault && s.Frequency == "default") {
		return s, store.Invalid(field+".frequency", "%q is not a frequency (immediate, hourly, daily, weekly)", in.Frequency)
	}
	var errs []error
	switch s.Frequency {
	case store.DigestDaily, store.DigestWeekly:
		if s.At == "" {
			errs = append(errs, store.Invalid(field+".at", "a %s digest needs a time of day as HH:MM, e.g. 08:00", s.Frequency))
		} else if _, _, err := store.ParseClock(s.At); err != nil {
			errs = append(errs, store.Invalid(field+".at", "%v", err))
		}
	default:
		s.At = ""
	}
	if s.Frequency == store.DigestWeekly {
		if _, err := store.ParseWeekday(s.Day); err != nil {
			errs = append(errs, store.Invalid(field+".day", "%v", err))
		}
	} else {
		s.Day = ""
	}
	return s, errors.Join(errs...)
}

// checkDigests validates a change against the categories of types.
func checkDigests(c *DigestChange, types []NotificationType) (own *store.DigestSetting, cats []store.DigestSetting, err error) {
	categories := map[string]bool{}
	for _, t := range types {
		categories[store.Category(t.Key)] = true
	}
	var errs []error
	if c.Digest != nil {
		s, err := checkDigest("digest", *c.Digest, false)
		errs = append(errs, err)
		own = &s
	}
	seen := map[string]int{}
	for i, in := range c.Categories {
		field := fmt.Sprintf("category_digests[%d]", i)
		cat := strings.TrimSpace(in.Category)
		switch {
		case cat == "":
			errs = append(errs, store.Invalid(field+".category", "name a category, e.g. task"))
			continue
		case !categories[cat]:
			errs = append(errs, store.Invalid(field+".category", "unknown category %q: no type key starts with %q", cat, cat+":"))
			continue
		}
		if j, dup := seen[cat]; dup {
			errs = append(errs, store.Invalid(field+".category", "repeats category_digests[%d] (%s)", j, cat))
			continue
		}
		seen[cat] = i
		s, err := checkDigest(field, in.DigestSchedule, c.Merge)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Category = cat
		cats = append(cats, s)
	}
	return own, cats, errors.Join(errs...)
}

// writeDigests applies a checked change in tx: each schedule's next time
// is worked out in the person's zone loc.
func writeDigests(ctx context.Context, tx store.Tx, userID string, merge bool, own *store.DigestSetting, cats []store.DigestSetting, now time.Time, loc *time.Location) error {
	var cur []store.DigestSetting
	if merge {
		var err error
		if cur, err = tx.DigestSettingList(ctx, userID); err != nil {
			return err
		}
		for i := range cur {
			cur[i].UpdatedAt = time.Time{} // rewritten with now
		}
	}
	put := func(s store.DigestSetting) {
		i := slices.IndexFunc(cur, func(c store.DigestSetting) bool { return c.Category == s.Category })
		switch {
		case s.Frequency == "default" && i >= 0:
			cur = slices.Delete(cur, i, i+1)
		case s.Frequency == "default":
		case i >= 0:
			cur[i] = s
		default:
			cur = append(cur, s)
		}
	}
	if own != nil {
		put(*own)
	}
	for _, s := range cats {
		put(s)
	}
	out := make([]store.DigestSetting, 0, len(cur))
	for _, s := range cur {
		if s.Category == "" && s.Frequency == store.DigestImmediate {
			continue // the default: no row
		}
		s.NextAt = nil
		if t := s.Next(now, loc); !t.IsZero() {
			s.NextAt = &t
		}
		out = append(out, s)
	}
	return tx.DigestSettingReplace(ctx, userID, out, now)
}

// rescheduleDigests works out again, in each person's zone as stored now,
// the next time of the schedules of users (everybody's when nil) that
// are not yet due: after the directory (import, sync, the user API)
// changed a zone. Schedules whose time does not move are not written.
func (s *Service) rescheduleDigests(ctx context.Context, tx store.Tx, users []string) error {
	now := s.Now()
	list, err := tx.DigestSchedulesNotDue(ctx, users, now)
	if err != nil || len(list) == 0 {
		return err
	}
	zones := map[string]*time.Location{}
	var moves []store.DigestMove
	for _, z := range list {
		loc, ok := zones[z.TimeZone]
		if !ok {
			loc = s.zone(z.TimeZone)
			zones[z.TimeZone] = loc
		}
		next := z.Setting.Next(now, loc)
		if next.IsZero() || z.Setting.NextAt != nil && z.Setting.NextAt.Equal(next) {
			continue
		}
		moves = append(moves, store.DigestMove{UserID: z.UserID, Category: z.Setting.Category, NextAt: next})
	}
	return tx.DigestReschedule(ctx, moves, now)
}

// digestsOf reads a person's schedules for their preference document.
func digestsOf(ctx context.Context, q store.Queries, userID string) (DigestSchedule, []CategoryDigest, error) {
	own := DigestSchedule{Frequency: string(store.DigestImmediate)}
	cats := []CategoryDigest{}
	list, err := q.DigestSettingList(ctx, userID)
	if err != nil {
		return own, nil, err
	}
	for _, s := range list {
		d := DigestSchedule{Frequency: string(s.Frequency), At: s.At, Day: s.Day}
		if s.Category == "" {
			own = d
		} else {
			cats = append(cats, CategoryDigest{Category: s.Category, DigestSchedule: d})
		}
	}
	return own, cats, nil
}

// DigestRun is what one run of the digests did.
type DigestRun struct {
	Schedules int `json:"schedules"` // schedules that fell due
	Digests   int `json:"digests"`   // digests queued
	Items     int `json:"items"`     // items they list
	Dropped   int `json:"dropped"`   // items left out
}

// RunDigests sends the digests that are due now (the periodic job does
// it every minute): one e-mail delivery per person and schedule.
func (s *Service) RunDigests(ctx context.Context) (DigestRun, error) {
	r, err := s.mailer.RunDigests(ctx)
	return DigestRun(r), err
}
