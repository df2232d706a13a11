package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// pageSize is the number of rows of the console's lists.
const pageSize = 50

// eventsData is the events page: the search as typed, the events, the
// pager, and whether any shown can be cancelled.
type eventsData struct {
	Status, Context, Key, Title, Recipient string
	// RecipientName names the person the search found for Recipient.
	RecipientName string
	Error         string // about the search
	Events        []cloche.Event
	Pager         pager
	AnyPending    bool
	Statuses      []cloche.EventStatus
	Types         []cloche.NotificationType
}

var eventStatuses = []cloche.EventStatus{cloche.EventPending, cloche.EventPublished, cloche.EventCancelled,
	cloche.EventExpired, cloche.EventDropped, cloche.EventFailed}

func (c *Console) events(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	ctx := r.Context()
	d := &eventsData{Status: q.Get("status"), Context: strings.TrimSpace(q.Get("context")), Key: q.Get("key"),
		Title: strings.TrimSpace(q.Get("title")), Recipient: strings.TrimSpace(q.Get("recipient")), Statuses: eventStatuses}
	f := cloche.EventFilter{Status: cloche.EventStatus(d.Status), Key: d.Key, Title: d.Title, Limit: pageSize + 1}
	if d.Context != "" {
		// "invoice" filters by type, "invoice:42" by type and id.
		typ, id, _ := strings.Cut(d.Context, ":")
		f.Context = &cloche.Context{Type: strings.TrimSpace(typ), ID: strings.TrimSpace(id)}
	}
	for name, dst := range map[string]*int64{"before": &f.BeforeID, "after": &f.AfterID} {
		if v := q.Get(name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				c.errorPage(w, r, s, http.StatusBadRequest, "Bad page", "The page asked for is not one of this list; start again from the first page.")
				return
			}
			*dst = id
		}
	}
	types, err := c.svc.Types(ctx)
	if err != nil {
		c.serverError(w, r, s, "list the notification types", err)
		return
	}
	d.Types = types
	status := http.StatusOK
	if d.Recipient != "" {
		id, name, problem, err := c.findPerson(r, d.Recipient)
		if err != nil {
			c.serverError(w, r, s, "find the recipient", err)
			return
		}
		if problem != "" {
			d.Error, status = problem, http.StatusBadRequest
			c.render(w, r, s, status, "events", "Events", "events", d)
			return
		}
		f.Recipient, d.RecipientName = id, name
	}
	evs, err := c.svc.Events(ctx, f)
	if err == nil {
		d.Pager.Total, err = c.svc.CountEvents(ctx, f)
	}
	switch {
	case errors.Is(err, cloche.ErrInvalid):
		d.Error, status = inWords(err), http.StatusBadRequest
	case err != nil:
		c.serverError(w, r, s, "list the events", err)
		return
	}
	base := url.Values{"status": {d.Status}, "key": {d.Key}, "context": {d.Context}, "title": {d.Title}, "recipient": {d.Recipient}}
	total := d.Pager.Total
	d.Events, d.Pager = keyset(evs, func(e cloche.Event) int64 { return e.ID }, pageSize, f.BeforeID, f.AfterID, base,
		func(u url.Values) string { return c.prefix + "/events?" + u.Encode() })
	d.Pager.Total, d.Pager.Noun = total, "events"
	for _, e := range d.Events {
		if e.Status == cloche.EventPending {
			d.AnyPending = true
		}
	}
	c.render(w, r, s, status, "events", "Events", "events", d)
}

// findPerson reads what an operator typed to name a person: a user id, or
// a name or e-mail that only one person's contains. It returns the id
// and name, or a problem to show.
func (c *Console) findPerson(r *http.Request, typed string) (id, name, problem string, err error) {
	ctx := r.Context()
	if u, err := c.svc.User(ctx, typed); err == nil {
		return u.ID, u.Name, "", nil
	} else if !errors.Is(err, cloche.ErrNotFound) && !errors.Is(err, cloche.ErrInvalid) {
		return "", "", "", err
	}
	us, err := c.svc.SearchUsers(ctx, cloche.UserQuery{Text: typed, Limit: 6})
	switch {
	case errors.Is(err, cloche.ErrInvalid):
		return "", "", "Recipient: " + inWords(err), nil
	case err != nil:
		return "", "", "", err
	case len(us) == 0:
		return "", "", fmt.Sprintf("Recipient: nobody in the directory is %q or has it in their name or e-mail.", typed), nil
	case len(us) > 1:
		var names []string
		for _, u := range us[:min(len(us), 5)] {
			names = append(names, fmt.Sprintf("%s (%s)", cmp.Or(u.Name, u.ID), u.ID))
		}
		more := ""
		if len(us) > 5 {
			more = ", …"
		}
		return "", "", fmt.Sprintf("Recipient: several people match %q: %s%s. Type one's id.", typed, strings.Join(names, ", "), more), nil
	}
	return us[0].ID, us[0].Name, "", nil
}

// eventData is one event's page.
type eventData struct {
	Event      *cloche.Event
	Type       *cloche.NotificationType
	Deliveries []cloche.Delivery
	MoreMail   bool
	// Report says who got nothing (the event's report, in sentences).
	Report []string
	// Withheld are the recipients whose settings kept a channel from
	// them, and why (cloche.EventWithheld).
	Withheld []cloche.PreferenceSkip
	// Names of the people and companies the event names or reached.
	Names names
	// Recipients is a page of the people it reached; RecipientsPager its
	// navigation.
	Recipients      *cloche.EventRecipients
	RecipientsFirst string
	RecipientsNext  string
	Channels        []cloche.Channel // the in-app channels it used
}

// ReadRate is the share of the event's in-app notifications read, in
// percent; -1 when it has none.
func (d *eventData) ReadRate() int {
	if d.Recipients == nil || d.Recipients.InApp == 0 {
		return -1
	}
	return percent(d.Recipients.Read, d.Recipients.InApp)
}

// percent is part of whole in per cent, to the nearest (whole > 0).
func percent(part, whole int) int {
	return (part*200 + whole) / (2 * whole)
}

func (c *Console) event(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := c.eventID(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	ev, err := c.svc.Event(ctx, id)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such event", fmt.Sprintf("There is no event %d.", id))
		return
	} else if err != nil {
		c.serverError(w, r, s, "read the event", err)
		return
	}
	d := &eventData{Event: ev, Report: sentences(ev.Report.Lines())}
	if d.Withheld, err = c.svc.EventWithheld(ctx, ev); err != nil {
		c.serverError(w, r, s, "read who got nothing", err)
		return
	}
	if t, err := c.svc.Type(ctx, ev.Key); err == nil {
		d.Type = t
	}
	if ev.Channel == cloche.ChannelEmail || ev.Counts[cloche.ChannelEmail] > 0 {
		ds, err := c.svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: id, Limit: pageSize})
		if err != nil {
			c.serverError(w, r, s, "list the event's e-mails", err)
			return
		}
		d.Deliveries, d.MoreMail = ds, len(ds) == pageSize
	}
	after := r.URL.Query().Get("after")
	d.Recipients, err = c.svc.Recipients(ctx, id, after, pageSize+1)
	if err != nil {
		c.serverError(w, r, s, "list the event's recipients", err)
		return
	}
	if rs := d.Recipients.Recipients; len(rs) > pageSize {
		d.Recipients.Recipients = rs[:pageSize]
		d.RecipientsNext = fmt.Sprintf("%s/events/%d?after=%s#recipients", c.prefix, id, url.QueryEscape(rs[pageSize-1].UserID))
	}
	if after != "" {
		d.RecipientsFirst = fmt.Sprintf("%s/events/%d#recipients", c.prefix, id)
	}
	used := map[cloche.Channel]bool{}
	for _, rc := range d.Recipients.Recipients {
		for _, n := range rc.InApp {
			used[n.Channel] = true
		}
	}
	for _, ch := range channels {
		if ch != cloche.ChannelEmail && used[ch] {
			d.Channels = append(d.Channels, ch)
		}
	}
	users := append([]string{}, ev.Recipients.UserIDs...)
	if ev.Recipients.FollowerUserID != "" {
		users = append(users, ev.Recipients.FollowerUserID)
	}
	var companies []string
	if ev.Recipients.CompanyID != "" {
		companies = append(companies, ev.Recipients.CompanyID)
	}
	for _, dl := range d.Deliveries {
		if dl.UserID != "" {
			users = append(users, dl.UserID)
		}
		if dl.CompanyID != "" {
			companies = append(companies, dl.CompanyID)
		}
	}
	if d.Names, err = c.names(ctx, users, companies); err != nil {
		c.serverError(w, r, s, "read the recipients' names", err)
		return
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

// withheldReason says why a recipient got nothing on a channel, for the
// event page.
func withheldReason(reason string) string {
	switch reason {
	case cloche.WithheldPreference:
		return "their preferences turn this channel off"
	case cloche.WithheldQuietHours:
		return "held until their quiet hours end"
	case cloche.WithheldUnread:
		return "sent only if still unread in the app"
	case cloche.WithheldDigest:
		return "held for their digest"
	}
	return reason
}

// cancelManyData is the page that confirms a bulk cancel.
type cancelManyData struct {
	Events  []cloche.Event // pending: offered
	Skipped []cloche.Event // no longer pending: left out
	Back    string
}

// cancelEvents cancels the pending events whose ids the events page's
// form posts, once confirmed: without confirm=1 it shows them and asks;
// with it, it cancels those still pending in one transaction.
func (c *Console) cancelEvents(w http.ResponseWriter, r *http.Request, s *session) {
	var ids []int64
	seen := map[int64]bool{}
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad selection", "The selection names something that is not an event; go back and select again.")
			return
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	back := c.prefix + "/events?status=pending"
	if len(ids) == 0 {
		c.setFlash(w, r, "warn", "No event selected: tick the events to cancel first.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if len(ids) > 1000 {
		c.errorPage(w, r, s, http.StatusBadRequest, "Too many events", "Cancel at most 1000 events at once.")
		return
	}
	if r.PostFormValue("confirm") != "1" {
		d := &cancelManyData{Back: back}
		for _, id := range ids {
			ev, err := c.svc.Event(r.Context(), id)
			if errors.Is(err, cloche.ErrNotFound) {
				continue
			} else if err != nil {
				c.serverError(w, r, s, "read the events", err)
				return
			}
			if ev.Status == cloche.EventPending {
				d.Events = append(d.Events, *ev)
			} else {
				d.Skipped = append(d.Skipped, *ev)
			}
		}
		if len(d.Events) == 0 {
			c.setFlash(w, r, "warn", "Nothing cancelled: none of the selected events is still pending.")
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		c.render(w, r, s, http.StatusOK, "cancelmany", fmt.Sprintf("Cancel %d events?", len(d.Events)), "events", d)
		return
	}
	done, err := c.svc.CancelPending(r.Context(), ids)
	if err != nil {
		c.serverError(w, r, s, "cancel the events", err)
		return
	}
	c.logger.InfoContext(r.Context(), "console: events cancelled", "who", s.Who, "event_ids", done)
	msg := fmt.Sprintf("%d event%s cancelled.", len(done), plural1(len(done)))
	kind := "ok"
	if n := len(ids) - len(done); n > 0 {
		msg += fmt.Sprintf(" %d no longer pending, left as %s.", n, map[bool]string{true: "it was", false: "they were"}[n == 1])
		kind = "warn"
	}
	c.setFlash(w, r, kind, msg)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func plural1(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
