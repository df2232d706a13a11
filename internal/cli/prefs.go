package cli

import (
	"errors"
	"regexp"
	"strings"

	"github.com/cloche/cloche"
)

// prefsCmd groups the commands about preferences per type and channel.
type prefsCmd struct {
	Show     prefsShowCmd     `cmd:"" help:"Show a user's preferences and the channels each type reaches them on."`
	Set      prefsSetCmd      `cmd:"" help:"Turn channels on or off for a user, for a type or a category, and set their time zone, quiet hours, unread delay and e-mail digests; the other settings stay."`
	Defaults prefsDefaultsCmd `cmd:"" help:"Show or set the organisation defaults, which a user's settings override."`
}

type prefsDefaultsCmd struct {
	Show prefsDefaultsShowCmd `cmd:"" help:"Show the organisation defaults and the channels each type reaches people on."`
	Set  prefsDefaultsSetCmd  `cmd:"" help:"Turn channels on or off for everybody, for a type or a category; the other defaults stay."`
}

// prefsScope is what a set command changes: one type or one category,
// and channels turned on, off, or back to what they inherit.
type prefsScope struct {
	Type     string   `name:"type" placeholder:"KEY" help:"A type key, e.g. task:status:valid."`
	Category string   `name:"category" placeholder:"CATEGORY" help:"A category: a type key's first segment, e.g. task."`
	Channel  []string `name:"channel" placeholder:"CHANNEL=on|off|default" help:"A channel (email, message, header_message, alert, push) turned on, off, or back to what it inherits (default). Repeatable."`
}

var channelSetting = regexp.MustCompile(`^([a-z_]+)=(on|off|default)$`)

// settings turns the flags into settings; bad flags are usage errors.
func (s *prefsScope) settings() ([]cloche.PreferenceSetting, error) {
	switch {
	case s.Type == "" && s.Category == "":
		return nil, usageErrorf("name a type (--type KEY) or a category (--category CATEGORY)")
	case s.Type != "" && s.Category != "":
		return nil, usageErrorf("--type and --category: name one, not both")
	case len(s.Channel) == 0:
		return nil, usageErrorf("--channel: name at least one, e.g. --channel email=on")
	}
	out := make([]cloche.PreferenceSetting, 0, len(s.Channel))
	for _, c := range s.Channel {
		m := channelSetting.FindStringSubmatch(strings.TrimSpace(c))
		if m == nil {
			return nil, usageErrorf("--channel: %q is not CHANNEL=on, CHANNEL=off or CHANNEL=default", c)
		}
		p := cloche.PreferenceSetting{Type: s.Type, Category: s.Category, Channel: cloche.Channel(m[1])}
		if m[2] != "default" {
			on := m[2] == "on"
			p.Enabled = &on
		}
		out = append(out, p)
	}
	return out, nil
}

// flagError names the flag a field error of the settings is about: bad
// input is a usage error (exit status 2).
func flagError(err error) error {
	fes := cloche.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	lines := make([]string, 0, len(fes))
	for _, fe := range fes {
		flag := "--channel"
		switch {
		case personFlag(fe.Field) != "":
			flag = personFlag(fe.Field)
		case strings.HasPrefix(fe.Field, "category_digests") && strings.HasSuffix(fe.Field, ".category"):
			flag = "--category"
		case strings.HasPrefix(fe.Field, "digest") || strings.HasPrefix(fe.Field, "category_digests"):
			flag = "--digest"
		case strings.HasSuffix(fe.Field, ".type"):
			flag = "--type"
		case strings.HasSuffix(fe.Field, ".category"):
			flag = "--category"
		}
		msg := flag + ": " + fe.Problem
		if fe.Hint != "" {
			msg += " (" + fe.Hint + ")"
		}
		lines = append(lines, msg)
	}
	return &usageError{errors.New(strings.Join(lines, "\n"))}
}

type prefsShowCmd struct {
	User string `arg:"" help:"User id."`
}

func (c *prefsShowCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	p, err := svc.Preferences(rt.ctx, c.User)
	if err != nil {
		return err
	}
	return rt.printPreferences(p)
}

type prefsSetCmd struct {
	User string `arg:"" help:"User id."`
	prefsScope
	prefsPerson
	Digest string `name:"digest" placeholder:"FREQUENCY" help:"E-mail frequency, for all the user's e-mail or, with --category, one category: immediate, hourly, daily@HH:MM, weekly@DAY@HH:MM (e.g. weekly@monday@08:00), in the user's time zone; default (with --category) goes back to the user's own."`
}

func (c *prefsSetCmd) Help() string {
	return `Examples:
  cloche prefs set 1 --type task:status:valid --channel email=on --channel message=off
  cloche prefs set 1 --quiet 21:00-08:00 --quiet-days saturday,sunday --time-zone Europe/Paris
  cloche prefs set 1 --email-if-unread 30m
  cloche prefs set 1 --quiet off --email-if-unread default
  cloche prefs set 1 --digest daily@08:00
  cloche prefs set 1 --digest weekly@monday@09:30 --category task`
}

func (c *prefsSetCmd) Run(rt *runtime) error {
	var (
		in  []cloche.PreferenceSetting
		dc  *cloche.DigestChange
		err error
	)
	if c.Digest != "" {
		if dc, err = c.digestChange(); err != nil {
			return err
		}
	}
	// --category goes with --digest when both are given.
	if (!c.prefsPerson.any() && c.Digest == "") || c.Type != "" || len(c.Channel) > 0 || (c.Category != "" && c.Digest == "") {
		if in, err = c.settings(); err != nil {
			return err
		}
	}
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	var opts []cloche.PreferenceOption
	if c.prefsPerson.any() {
		cur, err := svc.Preferences(rt.ctx, c.User)
		if err != nil {
			return err
		}
		if opts, err = c.prefsPerson.options(cur); err != nil {
			return err
		}
	}
	if dc != nil {
		opts = append(opts, cloche.WithDigests(dc))
	}
	p, err := svc.UpdatePreferences(rt.ctx, c.User, in, opts...)
	if err != nil {
		return flagError(err)
	}
	return rt.printPreferences(p)
}

type prefsDefaultsShowCmd struct{}

func (c *prefsDefaultsShowCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	p, err := svc.DefaultPreferences(rt.ctx)
	if err != nil {
		return err
	}
	return rt.printPreferences(p)
}

type prefsDefaultsSetCmd struct {
	prefsScope
}

func (c *prefsDefaultsSetCmd) Run(rt *runtime) error {
	in, err := c.settings()
	if err != nil {
		return err
	}
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	p, err := svc.UpdateDefaultPreferences(rt.ctx, in)
	if err != nil {
		return flagError(err)
	}
	return rt.printPreferences(p)
}

// printPreferences prints the settings, then what they amount to per type.
func (rt *runtime) printPreferences(p *cloche.Preferences) error {
	if rt.globals.JSON {
		return rt.printJSON(p)
	}
	whose := "organisation defaults"
	if p.UserID != "" {
		whose = "user " + p.UserID
	}
	if p.PersonPreferences != nil {
		rt.printPerson(p.PersonPreferences)
	}
	if len(p.Settings) == 0 {
		rt.printf("%s: no settings", whose)
	} else {
		rt.printf("%s:", whose)
		t := rt.table("SCOPE", "CHANNEL", "SETTING")
		for _, s := range p.Settings {
			scope := "type " + s.Type
			if s.Category != "" {
				scope = "category " + s.Category
			}
			setting := "off"
			if s.Enabled != nil && *s.Enabled {
				setting = "on"
			}
			t.row(scope, s.Channel, setting)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if p.PersonPreferences != nil && p.Digest != nil {
		rt.printf("")
		rt.printf("e-mail digest: %s", digestText(*p.Digest))
		for _, c := range p.CategoryDigests {
			rt.printf("  category %s: %s", c.Category, digestText(c.DigestSchedule))
		}
	}
	rt.printf("")
	t := rt.table("TYPE", "DEFAULT CHANNEL", "MANDATORY", "CHANNELS")
	for _, e := range p.Effective {
		mandatory := "no"
		if e.Mandatory {
			mandatory = "yes"
		}
		channels := make([]string, len(e.Channels))
		for i, ch := range e.Channels {
			channels[i] = string(ch)
		}
		t.row(e.Type, e.DefaultChannel, mandatory, orDash(strings.Join(channels, ", ")))
	}
	return t.flush()
}

// digestChange reads --digest: immediate, hourly, daily@HH:MM,
// weekly@DAY@HH:MM, or default (with --category). The values are checked
// by the service, which names the flag at fault.
func (c *prefsSetCmd) digestChange() (*cloche.DigestChange, error) {
	if c.Type != "" {
		return nil, usageErrorf("--digest applies to all the user's e-mail or a category (--category), not a type")
	}
	parts := strings.Split(strings.TrimSpace(c.Digest), "@")
	d := cloche.DigestSchedule{Frequency: parts[0]}
	switch {
	case len(parts) == 1 && (parts[0] == "immediate" || parts[0] == "hourly" || (parts[0] == "default" && c.Category != "")):
	case len(parts) == 2 && parts[0] == "daily":
		d.At = parts[1]
	case len(parts) == 3 && parts[0] == "weekly":
		d.Day, d.At = parts[1], parts[2]
	default:
		return nil, usageErrorf("--digest: %q is not immediate, hourly, daily@HH:MM or weekly@DAY@HH:MM", c.Digest)
	}
	if c.Category != "" {
		return &cloche.DigestChange{Merge: true, Categories: []cloche.CategoryDigest{{Category: c.Category, DigestSchedule: d}}}, nil
	}
	return &cloche.DigestChange{Merge: true, Digest: &d}, nil
}

// digestText says a digest schedule in the words of --digest.
func digestText(d cloche.DigestSchedule) string {
	switch d.Frequency {
	case "daily":
		return "daily@" + d.At
	case "weekly":
		return "weekly@" + d.Day + "@" + d.At
	}
	return d.Frequency
}
