package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// pageSize is the number of rows of the console's lists.
const pageSize = 50

// eventsData is the events page: the filter as typed, the events, and the
// id to continue from.
type eventsData struct {
	Status, Context, Key string
	Error                string // about the filter
	Events               []cloche.Event
	Next                 int64
	Statuses             []cloche.EventStatus
	Types                []cloche.NotificationType
}

var eventStatuses = []cloche.EventStatus{cloche.EventPending, cloche.EventPublished, cloche.EventCancelled,
	cloche.EventExpired, cloche.EventDropped, cloche.EventFailed}

func (c *Console) events(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &eventsData{Status: q.Get("status"), Context: strings.TrimSpace(q.Get("context")), Key: q.Get("key"), Statuses: eventStatuses}
	f := cloche.EventFilter{Status: cloche.EventStatus(d.Status), Key: d.Key, Limit: pageSize}
	if d.Context != "" {
		// "invoice" filters by type, "invoice:42" by type and id.
		typ, id, _ := strings.Cut(d.Context, ":")
		f.Context = &cloche.Context{Type: strings.TrimSpace(typ), ID: strings.TrimSpace(id)}
	}
	if before := q.Get("before"); before != "" {
		id, err := strconv.ParseInt(before, 10, 64)
		if err != nil || id <= 0 {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad page", "before must be an event id.")
			return
		}
		f.BeforeID = id
	}
	types, err := c.svc.Types(r.Context())
	if err != nil {
		c.serverError(w, r, s, "list the notification types", err)
		return
	}
	d.Types = types
	evs, err := c.svc.Events(r.Context(), f)
	status := http.StatusOK
	switch {
	case errors.Is(err, cloche.ErrInvalid):
		d.Error, status = inWords(err), http.StatusBadRequest
	case err != nil:
		c.serverError(w, r, s, "list the events", err)
		return
	}
	d.Events = evs
	if len(evs) == pageSize {
		d.Next = evs[len(evs)-1].ID
	}
	c.render(w, r, s, status, "events", "Events", "events", d)
}

// eventData is one event's page.
type eventData struct {
	Event      *cloche.Event
	Type       *cloche.NotificationType
	Deliveries []cloche.Delivery
	MoreMail   bool
	// Report says who got nothing (the event's report, in sentences).
	Report []string
}

func (c *Console) event(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := c.eventID(w, r, s)
	if !ok {
		return
	}
	ev, err := c.svc.Event(r.Context(), id)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such event", fmt.Sprintf("There is no event %d.", id))
		return
	} else if err != nil {
		c.serverError(w, r, s, "read the event", err)
		return
	}
	d := &eventData{Event: ev, Report: sentences(ev.Report.Lines())}
	if t, err := c.svc.Type(r.Context(), ev.Key); err == nil {
		d.Type = t
	}
	if ev.Channel == cloche.ChannelEmail || ev.Counts[cloche.ChannelEmail] > 0 {
		ds, err := c.svc.Deliveries(r.Context(), cloche.DeliveryFilter{EventID: id, Limit: pageSize})
		if err != nil {
			c.serverError(w, r, s, "list the event's e-mails", err)
			return
		}
		d.Deliveries, d.MoreMail = ds, len(ds) == pageSize
	}
	c.render(w, r, s, http.StatusOK, "event", fmt.Sprintf("Event %d", id), "events", d)
}

// cancelEvent cancels a pending event once confirmed: the event page's
// button posts without confirm=1 and gets a page asking to confirm (no
// JavaScript needed), whose form posts again with confirm=1.
func (c *Console) cancelEvent(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := c.eventID(w, r, s)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "1" {
		c.confirmCancel(w, r, s, id)
		return
	}
	err := c.svc.CancelEvent(r.Context(), id)
	switch {
	case err == nil:
		c.logger.InfoContext(r.Context(), "console: event cancelled", "who", s.Who, "event_id", id)
		c.setFlash(w, r, "ok", fmt.Sprintf("Event %d cancelled.", id))
	case errors.Is(err, cloche.ErrNotFound):
		c.errorPage(w, r, s, http.StatusNotFound, "No such event", fmt.Sprintf("There is no event %d.", id))
		return
	case errors.Is(err, cloche.ErrConflict):
		// Published or cancelled meanwhile: say so on its page.
		c.setFlash(w, r, "warn", fmt.Sprintf("Not cancelled: %s.", err))
	default:
		c.serverError(w, r, s, "cancel the event", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/events/%d", c.prefix, id), http.StatusSeeOther)
}

// confirmCancel asks whether to cancel event id; an event no longer
// pending is not offered, its page says why.
func (c *Console) confirmCancel(w http.ResponseWriter, r *http.Request, s *session, id int64) {
	ev, err := c.svc.Event(r.Context(), id)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such event", fmt.Sprintf("There is no event %d.", id))
		return
	} else if err != nil {
		c.serverError(w, r, s, "read the event", err)
		return
	}
	if ev.Status != cloche.EventPending {
		c.setFlash(w, r, "warn", fmt.Sprintf("Not cancelled: event %d is %s.", id, ev.Status))
		http.Redirect(w, r, fmt.Sprintf("%s/events/%d", c.prefix, id), http.StatusSeeOther)
		return
	}
	c.render(w, r, s, http.StatusOK, "cancel", fmt.Sprintf("Cancel event %d?", id), "events", ev)
}

func (c *Console) eventID(w http.ResponseWriter, r *http.Request, s *session) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(w, r, s, http.StatusNotFound, "No such event", "An event id is a positive number.")
		return 0, false
	}
	return id, true
}
