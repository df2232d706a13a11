package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// Preferences in the console: a grid of categories and types by channels,
// each cell "" (no setting: what it inherits), "on" or "off". A person's
// page edits theirs; the types' defaults page edits the organisation's.

// prefCell is one setting of the grid: a type's or a category's channel.
type prefCell struct {
	Name      string // the form field: "type|task:status:valid|email" or "category|task|email"
	Label     string // for screen readers: "E-mail for Invoice validated"
	Value     string // "", "on" or "off"
	Inherited string // what "" amounts to: "on", "off", or "" (a category: each type's own)
	Locked    bool   // a mandatory type's default channel: always on
	Error     string
}

// prefRow is a category or a type, with a cell per channel.
type prefRow struct {
	Category  bool
	Key       string
	Label     string
	Mandatory bool
	Effective []cloche.Channel // a type's channels once every rule applied
	Cells     []prefCell
}

// prefGrid is the whole form.
type prefGrid struct {
	Action   string // where it posts
	CSRF     string // the session's form token
	UserID   string // the person's; "" for the organisation defaults
	Channels []cloche.Channel
	Rows     []prefRow
	Other    []string // errors that name no cell
	Refused  int      // cells and fields with an error
	// Person: a person's time zone, quiet hours and unread delay (nil
	// for the organisation defaults).
	Person *personFields
}

// buildGrid lays out p (a person's preferences, or the organisation's)
// over base, what a type inherits when neither it nor its category is
// set: the organisation's channels for a person, the default channel for
// the organisation.
func buildGrid(p *cloche.Preferences, base func(cloche.TypeChannels, cloche.Channel) bool) *prefGrid {
	own := map[string]bool{}
	for _, s := range p.Settings {
		if s.Enabled == nil {
			continue
		}
		if s.Type != "" {
			own[cellName("type", s.Type, s.Channel)] = *s.Enabled
		} else {
			own[cellName("category", s.Category, s.Channel)] = *s.Enabled
		}
	}
	value := func(name string) string {
		on, ok := own[name]
		switch {
		case !ok:
			return ""
		case on:
			return "on"
		}
		return "off"
	}
	g := &prefGrid{Channels: channels}
	seen := map[string]bool{}
	for _, t := range p.Effective {
		if !seen[t.Category] {
			seen[t.Category] = true
			row := prefRow{Category: true, Key: t.Category, Label: "All of " + t.Category}
			for _, ch := range channels {
				name := cellName("category", t.Category, ch)
				row.Cells = append(row.Cells, prefCell{Name: name, Label: channelLabel(ch) + " for all of " + t.Category, Value: value(name)})
			}
			g.Rows = append(g.Rows, row)
		}
		row := prefRow{Key: t.Type, Label: t.Label, Mandatory: t.Mandatory, Effective: t.Channels}
		if row.Label == "" {
			row.Label = t.Type
		}
		for _, ch := range channels {
			name := cellName("type", t.Type, ch)
			inherited := base(t, ch)
			if on, ok := own[cellName("category", t.Category, ch)]; ok {
				inherited = on
			}
			row.Cells = append(row.Cells, prefCell{Name: name, Label: channelLabel(ch) + " for " + row.Label, Value: value(name),
				Inherited: onOff(inherited), Locked: t.Mandatory && ch == t.DefaultChannel})
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

func cellName(kind, scope string, ch cloche.Channel) string {
	return kind + "|" + scope + "|" + string(ch)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// readGrid takes the posted values into g and returns the settings they
// make, and the cell of each (to put the service's errors where they
// belong). A locked cell is read too when posted (a type made mandatory
// since the page was shown): the service says why it is refused.
func readGrid(g *prefGrid, form map[string][]string) (settings []cloche.PreferenceSetting, cellOf []*prefCell, ok bool) {
	ok = true
	for i := range g.Rows {
		row := &g.Rows[i]
		for j := range row.Cells {
			cell := &row.Cells[j]
			vs, posted := form[cell.Name]
			if !posted {
				if !cell.Locked {
					cell.Value = ""
				}
				continue
			}
			cell.Value = strings.TrimSpace(vs[0])
			if cell.Value == "" {
				continue
			}
			if cell.Value != "on" && cell.Value != "off" {
				cell.Error = fmt.Sprintf("%q is not a choice: on, off, or empty for the default", cell.Value)
				g.Refused++
				ok = false
				continue
			}
			on := cell.Value == "on"
			s := cloche.PreferenceSetting{Channel: cloche.Channel(strings.SplitN(cell.Name, "|", 3)[2]), Enabled: &on}
			if row.Category {
				s.Category = row.Key
			} else {
				s.Type = row.Key
			}
			settings = append(settings, s)
			cellOf = append(cellOf, cell)
		}
	}
	return settings, cellOf, ok
}

var settingField = regexp.MustCompile(`^settings\[(\d+)\]`)

// placeErrors puts the service's field errors on their cells, and the
// person's next to their fields.
func placeErrors(g *prefGrid, cellOf []*prefCell, err error) {
	for _, fe := range cloche.FieldErrors(err) {
		if g.Person != nil && g.Person.place(fe) {
			g.Refused++
			continue
		}
		if m := settingField.FindStringSubmatch(fe.Field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(cellOf) {
				if cellOf[i].Error == "" {
					g.Refused++
				}
				cellOf[i].Error = fe.Problem
				continue
			}
		}
		g.Other = append(g.Other, fe.Error())
	}
	if len(cloche.FieldErrors(err)) == 0 {
		g.Other = append(g.Other, err.Error())
	}
}

// userGrid is a person's grid: what they inherit is the organisation's.
func (c *Console) userGrid(ctx context.Context, u *cloche.User) (*prefGrid, error) {
	userID := u.ID
	p, err := c.svc.Preferences(ctx, userID)
	if err != nil {
		return nil, err
	}
	org, err := c.svc.DefaultPreferences(ctx)
	if err != nil {
		return nil, err
	}
	orgOn := map[string]bool{}
	for _, t := range org.Effective {
		for _, ch := range t.Channels {
			orgOn[t.Type+"|"+string(ch)] = true
		}
	}
	g := buildGrid(p, func(t cloche.TypeChannels, ch cloche.Channel) bool { return orgOn[t.Type+"|"+string(ch)] })
	g.Action, g.UserID = c.prefix+"/directory/user/preferences", userID
	if p.PersonPreferences != nil {
		g.Person = newPersonFields(p.PersonPreferences, u.TimeZone, c.svc.Location().String())
	}
	return g, nil
}

// defaultsGrid is the organisation's grid: a type inherits its default
// channel.
func (c *Console) defaultsGrid(ctx context.Context) (*prefGrid, error) {
	p, err := c.svc.DefaultPreferences(ctx)
	if err != nil {
		return nil, err
	}
	g := buildGrid(p, func(t cloche.TypeChannels, ch cloche.Channel) bool { return ch == t.DefaultChannel })
	g.Action = c.prefix + "/types/defaults"
	return g, nil
}

// saveUserPreferences: POST …/directory/user/preferences replaces a
// person's settings with the grid's.
func (c *Console) saveUserPreferences(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PostForm.Get("id")
	d, ok := c.userPage(w, r, s, id)
	if !ok {
		return
	}
	settings, cellOf, valid := readGrid(d.Prefs, r.PostForm)
	var opts []cloche.PreferenceOption
	if d.Prefs.Person != nil && r.PostForm.Get("person") == "1" {
		// An empty field is its default, as in the API's PUT.
		doc, ok := readPerson(d.Prefs.Person, r.PostForm)
		if !ok {
			d.Prefs.Refused++
			valid = false
		}
		// The form's fields only (not WithPerson): digests change only
		// when the form carries them, and then as a whole set.
		opts = append(opts, cloche.WithTimeZone(doc.TimeZone), cloche.WithQuietHours(doc.QuietHours),
			cloche.WithEmailIfUnread(doc.EmailIfUnreadMinutes))
		if dc := readDigests(d.Prefs.Person, r.PostForm); dc != nil {
			opts = append(opts, cloche.WithDigests(dc))
		}
	}
	if valid {
		_, err := c.svc.SetPreferences(ctx, id, settings, opts...)
		if err == nil {
			c.logger.InfoContext(ctx, "console: preferences saved", "who", s.Who, "user", id, "settings", len(settings), "person", len(opts) > 0)
			c.setFlash(w, r, "ok", fmt.Sprintf("Preferences of %s saved: %d setting(s).", cmp.Or(d.User.Name, d.User.ID), len(settings)))
			http.Redirect(w, r, c.prefix+"/directory/user?id="+url.QueryEscape(id)+"#prefs-h", http.StatusSeeOther)
			return
		}
		if !errors.Is(err, cloche.ErrInvalid) {
			c.serverError(w, r, s, "save the preferences", err)
			return
		}
		placeErrors(d.Prefs, cellOf, err)
	}
	c.render(w, r, s, http.StatusUnprocessableEntity, "user", cmp.Or(d.User.Name, d.User.ID), "directory", d)
}

// typeDefaults: GET …/types/defaults, the organisation's grid.
func (c *Console) typeDefaults(w http.ResponseWriter, r *http.Request, s *session) {
	g, err := c.defaultsGrid(r.Context())
	if err != nil {
		c.serverError(w, r, s, "read the default preferences", err)
		return
	}
	g.CSRF = c.keys.csrfToken(s.ID)
	c.render(w, r, s, http.StatusOK, "defaults", "Default preferences", "types", g)
}

// saveTypeDefaults: POST …/types/defaults replaces the organisation's
// settings with the grid's.
func (c *Console) saveTypeDefaults(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	g, err := c.defaultsGrid(ctx)
	if err != nil {
		c.serverError(w, r, s, "read the default preferences", err)
		return
	}
	g.CSRF = c.keys.csrfToken(s.ID)
	settings, cellOf, valid := readGrid(g, r.PostForm)
	if valid {
		_, err := c.svc.SetDefaultPreferences(ctx, settings)
		if err == nil {
			c.logger.InfoContext(ctx, "console: default preferences saved", "who", s.Who, "settings", len(settings))
			c.setFlash(w, r, "ok", fmt.Sprintf("Default preferences saved: %d setting(s).", len(settings)))
			http.Redirect(w, r, c.prefix+"/types/defaults", http.StatusSeeOther)
			return
		}
		if !errors.Is(err, cloche.ErrInvalid) {
			c.serverError(w, r, s, "save the default preferences", err)
			return
		}
		placeErrors(g, cellOf, err)
	}
	c.render(w, r, s, http.StatusUnprocessableEntity, "defaults", "Default preferences", "types", g)
}
