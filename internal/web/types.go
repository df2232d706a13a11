package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

var statusTypes = []cloche.StatusType{"neutral", "valid", "invalid", "caution", "document", "calendar"}

// typesData is the types page.
type typesData struct {
	Types []cloche.NotificationType
	// Defaults are the channels each type reaches by default, once the
	// organisation's default preferences apply.
	Defaults map[string][]cloche.Channel
	// Read is each type's read rate over the last readDays days, in words
	// ("12 of 40, 30 %"); absent when it sent nothing in the app.
	Read      map[string]string
	ShowRates bool
	ReadDays  int
}

// readDays is the period of the types page's read rates.
const readDays = 30

func (c *Console) types(w http.ResponseWriter, r *http.Request, s *session) {
	ts, err := c.svc.Types(r.Context())
	if err != nil {
		c.serverError(w, r, s, "list the notification types", err)
		return
	}
	org, err := c.svc.DefaultPreferences(r.Context())
	if err != nil {
		c.serverError(w, r, s, "read the default preferences", err)
		return
	}
	d := typesData{Types: ts, Defaults: map[string][]cloche.Channel{}, ReadDays: readDays}
	// The read rates read every in-app notification of 30 days (through
	// an index, still a second or more for a million): only when asked.
	var rates []cloche.TypeReadRate
	if r.URL.Query().Get("rates") == "1" {
		if rates, err = c.svc.ReadRates(r.Context(), readDays); err != nil {
			c.serverError(w, r, s, "read the read rates", err)
			return
		}
		d.Read, d.ShowRates = map[string]string{}, true
	}
	for _, rr := range rates {
		if rr.Notifications > 0 {
			d.Read[rr.Key] = fmt.Sprintf("%d %%, %d of %d", percent(rr.Read, rr.Notifications), rr.Read, rr.Notifications)
		}
	}
	for _, t := range org.Effective {
		d.Defaults[t.Type] = t.Channels
	}
	c.render(w, r, s, http.StatusOK, "types", "Notification types", "types", d)
}

// typeForm is the form that creates or edits a type.
type typeForm struct {
	New                                    bool
	Key, Label, DefaultChannel, StatusType string
	Builtin, Mandatory                     bool
	EmailIfUnread                          string // minutes, as posted
	Errors                                 map[string]string
	Other                                  []string
	StatusTypes                            []cloche.StatusType
}

func (c *Console) newType(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderType(w, r, s, http.StatusOK, &typeForm{New: true, DefaultChannel: string(cloche.ChannelMessage), StatusType: "neutral", EmailIfUnread: "0"})
}

func (c *Console) editType(w http.ResponseWriter, r *http.Request, s *session) {
	key := r.URL.Query().Get("key")
	t, err := c.svc.Type(r.Context(), key)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such type", fmt.Sprintf("There is no notification type %q.", key))
		return
	} else if err != nil {
		c.serverError(w, r, s, "read the type", err)
		return
	}
	c.renderType(w, r, s, http.StatusOK, &typeForm{Key: t.Key, Label: t.Label, DefaultChannel: string(t.DefaultChannel),
		StatusType: string(t.StatusType), Builtin: t.Builtin, Mandatory: t.Mandatory, EmailIfUnread: strconv.Itoa(t.EmailIfUnreadMinutes)})
}

func (c *Console) renderType(w http.ResponseWriter, r *http.Request, s *session, status int, f *typeForm) {
	f.StatusTypes = statusTypes
	title := "Edit " + f.Key
	if f.New {
		title = "New notification type"
	}
	c.render(w, r, s, status, "type", title, "types", f)
}

func (c *Console) saveType(w http.ResponseWriter, r *http.Request, s *session) {
	p := r.PostForm
	f := &typeForm{New: p.Get("new") == "1", Key: strings.TrimSpace(p.Get("key")), Label: p.Get("label"),
		DefaultChannel: p.Get("default_channel"), StatusType: p.Get("status_type"), Mandatory: p.Get("mandatory") == "1",
		EmailIfUnread: strings.TrimSpace(p.Get("email_if_unread_minutes")), Errors: map[string]string{}}
	ctx := r.Context()
	opts := []cloche.TypeOption{cloche.Mandatory(f.Mandatory)}
	if f.EmailIfUnread != "" { // empty keeps the type's delay (none for a new type)
		n, err := strconv.Atoi(f.EmailIfUnread)
		if err != nil {
			f.Errors["email_if_unread_minutes"] = strconv.Quote(f.EmailIfUnread) + " is not a whole number of minutes (0: never wait)"
			c.renderType(w, r, s, http.StatusUnprocessableEntity, f)
			return
		}
		opts = append(opts, cloche.EmailIfUnread(n))
	}
	if f.New && f.Key != "" {
		// Creating must not silently overwrite a type that exists.
		if _, err := c.svc.Type(ctx, f.Key); err == nil {
			f.Errors["key"] = "a type with this key exists already"
			c.renderType(w, r, s, http.StatusUnprocessableEntity, f)
			return
		} else if !errors.Is(err, cloche.ErrNotFound) {
			c.serverError(w, r, s, "read the type", err)
			return
		}
	}
	if !f.New {
		cur, err := c.svc.Type(ctx, f.Key)
		if errors.Is(err, cloche.ErrNotFound) {
			c.errorPage(w, r, s, http.StatusNotFound, "No such type", fmt.Sprintf("There is no notification type %q.", f.Key))
			return
		} else if err != nil {
			c.serverError(w, r, s, "read the type", err)
			return
		}
		f.Builtin = cur.Builtin
		if strings.TrimSpace(f.Label) == "" {
			f.Errors["label"] = "must not be empty"
			c.renderType(w, r, s, http.StatusUnprocessableEntity, f)
			return
		}
	}
	t, err := c.svc.SetType(ctx, cloche.NotificationType{Key: f.Key, Label: strings.TrimSpace(f.Label),
		DefaultChannel: cloche.Channel(f.DefaultChannel), StatusType: cloche.StatusType(f.StatusType)}, opts...)
	if err != nil {
		if !errors.Is(err, cloche.ErrInvalid) {
			c.serverError(w, r, s, "save the type", err)
			return
		}
		for _, fe := range cloche.FieldErrors(err) {
			switch fe.Field {
			case "key", "label", "default_channel", "status_type", "email_if_unread_minutes":
				f.Errors[fe.Field] = fe.Problem
			default:
				f.Other = append(f.Other, fe.Error())
			}
		}
		c.renderType(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	c.logger.InfoContext(ctx, "console: type saved", "who", s.Who, "key", t.Key)
	verb := "saved"
	if f.New {
		verb = "created"
	}
	mandatory := ""
	if t.Mandatory {
		mandatory = ", mandatory"
	}
	if t.EmailIfUnreadMinutes > 0 {
		mandatory += fmt.Sprintf(", e-mail only if unread after %d min", t.EmailIfUnreadMinutes)
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("Type %s %s: %s by default, %s%s.", t.Key, verb, channelLabel(t.DefaultChannel), t.StatusType, mandatory))
	http.Redirect(w, r, c.prefix+"/types", http.StatusSeeOther)
}
