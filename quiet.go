package cloche

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/quiet"
	"github.com/cloche/cloche/internal/store"
)

// QuietHours are a person's quiet hours: a daily window from Start to End
// ("HH:MM" in their time zone; End before Start crosses midnight) and
// whole Days ("saturday", …). During them e-mail is held and leaves when
// they end; in-app channels are never held.
type QuietHours = quiet.Hours

// MaxEmailIfUnreadMinutes bounds the unread delay: a week.
const MaxEmailIfUnreadMinutes = 7 * 24 * 60

// PersonPreferences are a person's preferences beyond channels: the
// fields of the preference document that are not about one type.
type PersonPreferences struct {
	// TimeZone is an IANA name; in a PUT, empty is the organisation's
	// (setting time_zone), which the document then shows.
	TimeZone string `json:"time_zone"`
	// QuietHours: nil, none.
	QuietHours *QuietHours `json:"quiet_hours"`
	// EmailIfUnreadMinutes: the e-mail of a notification also shown in
	// the app waits this long and leaves only if it is still unread. Nil:
	// the type's (email_if_unread_minutes of the type); 0: never wait.
	EmailIfUnreadMinutes *int `json:"email_if_unread_minutes"`
	// Digest is how often the person receives their e-mail; in a PUT, nil
	// is immediate. CategoryDigests are categories' own schedules, over
	// Digest (see DigestSchedule).
	Digest          *DigestSchedule  `json:"digest,omitempty"`
	CategoryDigests []CategoryDigest `json:"category_digests,omitempty"`

	// digestsSet: an option changed the digests; digestDefault: a
	// category's frequency "default" removes its own (WithDigests, merge).
	digestsSet, digestDefault bool
}

// PreferenceOption changes a person's preferences beyond channels, in
// the same transaction as their channel settings.
type PreferenceOption func(p *PersonPreferences)

// WithPerson replaces them all (a PUT of the whole document: an absent
// field is its default).
func WithPerson(in PersonPreferences) PreferenceOption {
	return func(p *PersonPreferences) { *p = in; p.digestsSet = true }
}

// WithDigests changes the digest schedules as c says (see DigestChange).
func WithDigests(c *DigestChange) PreferenceOption {
	return func(p *PersonPreferences) {
		if c == nil {
			return
		}
		p.digestsSet = true
		if !c.Merge {
			p.Digest, p.CategoryDigests = c.Digest, c.Categories
			return
		}
		p.digestDefault = true
		if c.Digest != nil {
			p.Digest = c.Digest
		}
		cats := slices.Clone(p.CategoryDigests)
		for _, in := range c.Categories {
			i := slices.IndexFunc(cats, func(cd CategoryDigest) bool { return cd.Category == strings.TrimSpace(in.Category) })
			if i >= 0 {
				cats[i] = in
			} else {
				cats = append(cats, in)
			}
		}
		p.CategoryDigests = cats
	}
}

// WithTimeZone sets the time zone ("" for the organisation's).
func WithTimeZone(name string) PreferenceOption {
	return func(p *PersonPreferences) { p.TimeZone = name }
}

// WithQuietHours sets the quiet hours (nil: none).
func WithQuietHours(h *QuietHours) PreferenceOption {
	return func(p *PersonPreferences) { p.QuietHours = h }
}

// WithEmailIfUnread sets the unread delay in minutes (nil: the type's).
func WithEmailIfUnread(minutes *int) PreferenceOption {
	return func(p *PersonPreferences) { p.EmailIfUnreadMinutes = minutes }
}

// EmailIfUnread sets a type's unread delay in minutes (0: none): its
// e-mail to a person who also gets it in the app waits that long and
// leaves only if it is still unread.
func EmailIfUnread(minutes int) TypeOption {
	return func(o *typeOptions) { o.emailIfUnread = &minutes }
}

// checkEmailIfUnread validates an unread delay.
func checkEmailIfUnread(field string, minutes int) error {
	if minutes < 0 || minutes > MaxEmailIfUnreadMinutes {
		return store.Invalid(field, "%d is not a number of minutes from 0 to %d (a week)", minutes, MaxEmailIfUnreadMinutes)
	}
	return nil
}

// personSettings checks p and turns it into what the store keeps.
func personSettings(p PersonPreferences) (*store.PersonSettings, error) {
	var errs []error
	out := &store.PersonSettings{TimeZone: strings.TrimSpace(p.TimeZone), EmailIfUnreadMinutes: p.EmailIfUnreadMinutes}
	if out.TimeZone != "" {
		loc, err := quiet.LoadZone("time_zone", out.TimeZone)
		if err != nil {
			errs = append(errs, err)
		} else {
			out.TimeZone = loc.String()
		}
	}
	if p.QuietHours != nil {
		w, err := p.QuietHours.Check("quiet_hours")
		if err != nil {
			errs = append(errs, err)
		} else {
			b, _ := json.Marshal(p.QuietHours.Normal(w))
			out.QuietHours = string(b)
		}
	}
	if m := p.EmailIfUnreadMinutes; m != nil {
		errs = append(errs, checkEmailIfUnread("email_if_unread_minutes", *m))
	}
	return out, errors.Join(errs...)
}

// personPreferences is what the document shows of stored settings; a
// person with no zone shows the organisation's.
func (s *Service) personPreferences(st *store.PersonSettings) (*PersonPreferences, error) {
	p := &PersonPreferences{TimeZone: st.TimeZone, EmailIfUnreadMinutes: st.EmailIfUnreadMinutes}
	if p.TimeZone == "" {
		p.TimeZone = s.loc.String()
	}
	if st.QuietHours != "" {
		var h QuietHours
		if err := json.Unmarshal([]byte(st.QuietHours), &h); err != nil {
			return nil, fmt.Errorf("quiet hours: %w", err)
		}
		p.QuietHours = &h
	}
	return p, nil
}

// personDocument reads a person's preferences beyond channels, and their
// stored settings.
func (s *Service) personDocument(ctx context.Context, q store.Queries, userID string) (*PersonPreferences, *store.PersonSettings, error) {
	cur, err := q.PersonSettingsGet(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.personPreferences(cur)
	if err != nil {
		return nil, nil, err
	}
	d, cats, err := digestsOf(ctx, q, userID)
	if err != nil {
		return nil, nil, err
	}
	p.Digest, p.CategoryDigests = &d, cats
	return p, cur, nil
}

// changePerson applies opts to a person's stored settings and digest
// schedules inside tx. The digests' next times follow the person's zone:
// they are worked out again when it changes.
func (s *Service) changePerson(ctx context.Context, tx store.Tx, userID string, types []NotificationType, opts []PreferenceOption) error {
	if len(opts) == 0 {
		return nil
	}
	p, cur, err := s.personDocument(ctx, tx, userID)
	if err != nil {
		return err
	}
	if cur.TimeZone == "" {
		p.TimeZone = "" // still the organisation's unless an option names one
	}
	for _, opt := range opts {
		opt(p)
	}
	in, err := personSettings(*p)
	var (
		own  *store.DigestSetting
		cats []store.DigestSetting
	)
	if p.digestsSet {
		var derr error
		own, cats, derr = checkDigests(&DigestChange{Digest: p.Digest, Categories: p.CategoryDigests, Merge: p.digestDefault}, types)
		err = errors.Join(err, derr)
	}
	if err != nil {
		return err
	}
	if err := tx.PersonSettingsSet(ctx, userID, in); err != nil {
		return err
	}
	switch {
	case p.digestsSet:
		// The whole set, "default" entries left out.
		return writeDigests(ctx, tx, userID, false, own, cats, s.Now(), s.zone(in.TimeZone))
	case in.TimeZone != cur.TimeZone:
		return writeDigests(ctx, tx, userID, true, nil, nil, s.Now(), s.zone(in.TimeZone))
	}
	return nil
}

// zone is the location of a person's stored zone name: the
// organisation's (setting time_zone) when they set none.
func (s *Service) zone(name string) *time.Location {
	if name != "" {
		if loc, err := quiet.LoadZone("time_zone", name); err == nil {
			return loc
		}
	}
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// Why a recipient of a published event got nothing on a channel, beside
// the event's report (inactive, no address): PreferenceSkip.Reason.
const (
	WithheldPreference = store.SkipReasonPreference // a preference turned the channel off
	WithheldQuietHours = store.HoldQuietHours       // e-mail held until their quiet hours end
	WithheldUnread     = store.HoldUnread           // e-mail waits for the in-app one to stay unread
	WithheldDigest     = store.HoldDigest           // e-mail held for their next digest
)

// EventWithheld returns, for a published event, the recipients who got
// nothing on a channel because of their settings, each with why: a
// preference, quiet hours pending, an unread delay pending, or a digest
// (NotBefore: when the e-mail may leave, or the digest falls due). Up to
// 1,000 of each kind; nil for an event not published.
func (s *Service) EventWithheld(ctx context.Context, ev *Event) ([]PreferenceSkip, error) {
	if ev.Status != EventPublished {
		return nil, nil
	}
	const limit = 1000
	out, err := s.PreferenceSkips(ctx, ev.ID, limit)
	if err != nil {
		return nil, err
	}
	held, err := s.HeldEmails(ctx, ev.ID, limit)
	if err != nil {
		return nil, err
	}
	digests, err := s.store.DigestHeldList(ctx, ev.ID, limit)
	if err != nil {
		return nil, wrap(fmt.Sprintf("event %d: held for digests", ev.ID), err)
	}
	for _, h := range append(held, digests...) {
		w := PreferenceSkip{UserID: h.UserID, Channel: ChannelEmail, Reason: h.Reason}
		if !h.NotBefore.IsZero() {
			w.NotBefore = &h.NotBefore
		}
		out = append(out, w)
	}
	return out, nil
}

// HeldEmails returns up to limit e-mails of an event still held (quiet
// hours, unread delay) now.
func (s *Service) HeldEmails(ctx context.Context, eventID int64, limit int) ([]store.HeldDelivery, error) {
	out, err := s.store.DeliveryHeldList(ctx, eventID, s.disp.Now(), limit)
	return out, wrap(fmt.Sprintf("event %d: held e-mails", eventID), err)
}
