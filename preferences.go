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

// PreferenceSetting turns a channel on or off for a notification type
// (Type, a key such as task:status:valid) or a whole category (Category,
// a key's first segment such as task): exactly one of the two. In an
// update, a nil Enabled removes the setting (back to what it inherits).
type PreferenceSetting struct {
	Type      string     `json:"type,omitempty"`
	Category  string     `json:"category,omitempty"`
	Channel   Channel    `json:"channel"`
	Enabled   *bool      `json:"enabled"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Preferences are a person's settings (or, with no UserID, the
// organisation defaults) and what they amount to for every type.
type Preferences struct {
	UserID    string              `json:"user_id,omitempty"`
	Settings  []PreferenceSetting `json:"settings"`
	Effective []TypeChannels      `json:"effective"`
	// A person's time zone, quiet hours, unread delay and
	// digests (nil for the
	// organisation defaults).
	*PersonPreferences
}

// TypeChannels are the channels a notification of a type reaches a person
// on (unless its sender forces one), once every rule has applied.
type TypeChannels struct {
	Type           string    `json:"type"`
	Label          string    `json:"label,omitempty"` // the type's, for settings pages
	Category       string    `json:"category"`
	DefaultChannel Channel   `json:"default_channel"`
	Mandatory      bool      `json:"mandatory"`
	Channels       []Channel `json:"channels"`
}

// PreferenceSkip is a recipient of an event who got nothing on a channel
// because of a preference (reason "preference").
type PreferenceSkip = store.PreferenceSkip

// Preferences returns a person's preferences.
func (s *Service) Preferences(ctx context.Context, userID string) (*Preferences, error) {
	if _, err := s.store.UserGet(ctx, userID); err != nil {
		return nil, wrap(fmt.Sprintf("user %q", userID), err)
	}
	return s.preferences(ctx, s.store, userID)
}

// DefaultPreferences returns the organisation defaults.
func (s *Service) DefaultPreferences(ctx context.Context) (*Preferences, error) {
	return s.preferences(ctx, s.store, "")
}

// SetPreferences replaces every setting of a person by settings, and
// changes their time zone, quiet hours, unread delay or digests as opts
// say (all of them with WithPerson), in one transaction.
func (s *Service) SetPreferences(ctx context.Context, userID string, settings []PreferenceSetting, opts ...PreferenceOption) (*Preferences, error) {
	return s.changePreferences(ctx, userID, settings, false, opts...)
}

// UpdatePreferences changes the settings of a person named in settings and
// keeps the others (a nil Enabled removes one), and changes what opts
// say, in one transaction.
func (s *Service) UpdatePreferences(ctx context.Context, userID string, settings []PreferenceSetting, opts ...PreferenceOption) (*Preferences, error) {
	return s.changePreferences(ctx, userID, settings, true, opts...)
}

// SetDefaultPreferences replaces the organisation defaults by settings.
func (s *Service) SetDefaultPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return s.changePreferences(ctx, "", settings, false)
}

// UpdateDefaultPreferences changes the organisation defaults named in
// settings and keeps the others; a nil Enabled removes one.
func (s *Service) UpdateDefaultPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return s.changePreferences(ctx, "", settings, true)
}

// SetTypeMandatory makes a type mandatory (its default channel cannot be
// turned off) or not.
func (s *Service) SetTypeMandatory(ctx context.Context, key string, mandatory bool) error {
	return wrap(fmt.Sprintf("type %q", key), s.store.TypeSetMandatory(ctx, key, mandatory))
}

// PreferenceSkips returns up to limit recipients of an event who got
// nothing on a channel because of a preference.
func (s *Service) PreferenceSkips(ctx context.Context, eventID int64, limit int) ([]PreferenceSkip, error) {
	out, err := s.store.PreferenceSkipList(ctx, eventID, limit)
	return out, wrap(fmt.Sprintf("event %d: preference skips", eventID), err)
}

// changePreferences checks settings against the types and writes them,
// all in one transaction: with any bad setting, nothing is saved.
func (s *Service) changePreferences(ctx context.Context, userID string, settings []PreferenceSetting, merge bool, opts ...PreferenceOption) (*Preferences, error) {
	var out *Preferences
	err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if userID != "" {
			if _, err := tx.UserGet(ctx, userID); err != nil {
				return err
			}
		}
		types, err := tx.TypeList(ctx)
		if err != nil {
			return err
		}
		in, err := checkSettings(settings, types, merge)
		if userID != "" {
			// Every problem at once: the settings' and the person's.
			err = errors.Join(err, s.changePerson(ctx, tx, userID, types, opts))
		}
		if err != nil {
			return err
		}
		if merge {
			cur, err := tx.PreferenceList(ctx, userID)
			if err != nil {
				return err
			}
			in = mergeSettings(cur, in)
		}
		prefs := make([]store.Preference, 0, len(in))
		for _, p := range in {
			if p.Enabled != nil {
				prefs = append(prefs, p.Preference)
			}
		}
		if err := tx.PreferenceReplace(ctx, userID, prefs); err != nil {
			return err
		}
		out, err = s.preferences(ctx, tx, userID)
		return err
	})
	if err != nil {
		what := "organisation default preferences"
		if userID != "" {
			what = fmt.Sprintf("user %q: preferences", userID)
		}
		return nil, wrap(what, err)
	}
	return out, nil
}

// checkedSetting is a valid setting; a nil Enabled removes it (merge).
type checkedSetting struct {
	store.Preference
	Enabled *bool
}

// checkSettings validates settings against the types, naming the field
// of every problem.
func checkSettings(settings []PreferenceSetting, types []NotificationType, merge bool) ([]checkedSetting, error) {
	byKey := make(map[string]NotificationType, len(types))
	categories := map[string]bool{}
	for _, t := range types {
		byKey[t.Key] = t
		categories[store.Category(t.Key)] = true
	}
	var errs []error
	seen := map[string]int{}
	out := make([]checkedSetting, 0, len(settings))
	for i, in := range settings {
		field := fmt.Sprintf("settings[%d]", i)
		in.Type, in.Category = strings.TrimSpace(in.Type), strings.TrimSpace(in.Category)
		p := checkedSetting{Enabled: in.Enabled}
		p.Channel = Channel(strings.TrimSpace(string(in.Channel)))
		switch {
		case in.Type != "" && in.Category != "":
			errs = append(errs, store.Invalid(field, "names both a type and a category: name one"))
			continue
		case in.Type != "":
			t, ok := byKey[in.Type]
			if !ok {
				errs = append(errs, store.Invalid(field+".type", "unknown notification type %q", in.Type).
					WithHint("list types with `cloche types list`"))
				continue
			}
			p.Kind, p.Scope = store.ScopeType, in.Type
			if t.Mandatory && p.Channel == t.DefaultChannel && in.Enabled != nil && !*in.Enabled {
				errs = append(errs, store.Invalid(field+".enabled", "%s is mandatory: its default channel %s cannot be turned off", t.Key, t.DefaultChannel))
				continue
			}
		case in.Category != "":
			if !categories[in.Category] {
				errs = append(errs, store.Invalid(field+".category", "unknown category %q: no type key starts with %q", in.Category, in.Category+":"))
				continue
			}
			p.Kind, p.Scope = store.ScopeCategory, in.Category
		default:
			errs = append(errs, store.Invalid(field, "names neither a type nor a category"))
			continue
		}
		if !p.Channel.Valid() {
			errs = append(errs, store.Invalid(field+".channel", "%q is not a channel (email, message, header_message, alert, push)", in.Channel))
			continue
		}
		if in.Enabled == nil && !merge {
			errs = append(errs, store.Invalid(field+".enabled", "must be true or false"))
			continue
		}
		if in.Enabled != nil {
			p.Preference.Enabled = *in.Enabled
		}
		id := string(p.Kind) + "\x00" + p.Scope + "\x00" + string(p.Channel)
		if j, dup := seen[id]; dup {
			errs = append(errs, store.Invalid(field, "repeats settings[%d] (%s %s, channel %s)", j, p.Kind, p.Scope, p.Channel))
			continue
		}
		seen[id] = i
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// mergeSettings applies changes to the current settings.
func mergeSettings(cur []store.Preference, changes []checkedSetting) []checkedSetting {
	out := make([]checkedSetting, 0, len(cur)+len(changes))
	for _, p := range cur {
		on := p.Enabled
		out = append(out, checkedSetting{Preference: p, Enabled: &on})
	}
	for _, c := range changes {
		i := slices.IndexFunc(out, func(o checkedSetting) bool {
			return o.Kind == c.Kind && o.Scope == c.Scope && o.Channel == c.Channel
		})
		c.UpdatedAt = time.Time{}
		if i >= 0 {
			out[i] = c
		} else {
			out = append(out, c)
		}
	}
	return out
}

// preferences reads the settings of userID (the organisation's when
// empty) and works out what they amount to.
func (s *Service) preferences(ctx context.Context, q store.Queries, userID string) (*Preferences, error) {
	types, err := q.TypeList(ctx)
	if err != nil {
		return nil, err
	}
	org, err := q.PreferenceList(ctx, "")
	if err != nil {
		return nil, err
	}
	own := org
	if userID != "" {
		if own, err = q.PreferenceList(ctx, userID); err != nil {
			return nil, err
		}
	}
	out := &Preferences{UserID: userID, Settings: make([]PreferenceSetting, 0, len(own)), Effective: make([]TypeChannels, 0, len(types))}
	for _, p := range own {
		on, at := p.Enabled, p.UpdatedAt
		ps := PreferenceSetting{Channel: p.Channel, Enabled: &on, UpdatedAt: &at}
		if p.Kind == store.ScopeType {
			ps.Type = p.Scope
		} else {
			ps.Category = p.Scope
		}
		out.Settings = append(out.Settings, ps)
	}
	layers := [][]store.Preference{org}
	if userID != "" {
		layers = [][]store.Preference{own, org}
		if out.PersonPreferences, _, err = s.personDocument(ctx, q, userID); err != nil {
			return nil, err
		}
	}
	for _, t := range types {
		out.Effective = append(out.Effective, TypeChannels{
			Type: t.Key, Label: t.Label, Category: store.Category(t.Key), DefaultChannel: t.DefaultChannel,
			Mandatory: t.Mandatory, Channels: EffectiveChannels(t, layers...),
		})
	}
	return out, nil
}

// EffectiveChannels applies the rules to one type: for each channel, the
// first layer (a person's settings, then the organisation's) with a
// setting decides, its type setting over its category's; with none, only
// the type's default channel is on. A mandatory type's default channel is
// always on. The fan-out queries apply the same rules in the database.
func EffectiveChannels(t NotificationType, layers ...[]store.Preference) []Channel {
	cat := store.Category(t.Key)
	var out []Channel
	for _, ch := range store.Channels {
		on := ch == t.DefaultChannel
		if !(on && t.Mandatory) {
		layers:
			for _, layer := range layers {
				for _, kind := range []store.ScopeKind{store.ScopeType, store.ScopeCategory} {
					scope := t.Key
					if kind == store.ScopeCategory {
						scope = cat
					}
					i := slices.IndexFunc(layer, func(p store.Preference) bool {
						return p.Kind == kind && p.Scope == scope && p.Channel == ch
					})
					if i >= 0 {
						on = layer[i].Enabled
						break layers
					}
				}
			}
		}
		if on {
			out = append(out, ch)
		}
	}
	if out == nil {
		out = []Channel{}
	}
	return out
}
