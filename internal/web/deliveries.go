package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// deliveriesData is the deliveries page.
type deliveriesData struct {
	Channel    string
	Channels   []string // the outbound channels
	State      string
	EventID    int64
	Error      string
	Deliveries []cloche.Delivery
	Next       int64
	States     []cloche.DeliveryState
	Here       string // this page, where a retry comes back to
}

// deliveryRows is what the delivery-table partial shows: the rows, and
// for the retry buttons the form token and the page to come back to.
type deliveryRows struct {
	Rows []cloche.Delivery
	CSRF string
	Here string
}

// retryable reports whether a delivery can be sent again: a failed one, or
// a retrying one (tried at once).
func retryable(d cloche.Delivery) bool {
	return d.State == cloche.DeliveryFailed || d.State == cloche.DeliveryRetrying
}

var deliveryStates = []cloche.DeliveryState{"queued", "sending", "sent", "retrying", "failed"}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &deliveriesData{Channel: q.Get("channel"), Channels: c.svc.OutboundChannels(), State: q.Get("state"),
		States: deliveryStates, Here: r.URL.RequestURI()}
	f := cloche.DeliveryFilter{Channel: d.Channel, State: cloche.DeliveryState(d.State), Limit: pageSize}
	for name, dst := range map[string]*int64{"event": &f.EventID, "before": &f.BeforeID} {
		if v := q.Get(name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				c.errorPage(w, r, s, http.StatusBadRequest, "Bad filter", name+" must be an id.")
				return
			}
			*dst = id
		}
	}
	d.EventID = f.EventID
	ds, err := c.svc.Deliveries(r.Context(), f)
	status := http.StatusOK
	switch {
	case errors.Is(err, cloche.ErrInvalid):
		d.Error, status = err.Error(), http.StatusBadRequest
	case err != nil:
		c.serverError(w, r, s, "list the deliveries", err)
		return
	}
	d.Deliveries = ds
	if len(ds) == pageSize {
		d.Next = ds[len(ds)-1].ID
	}
	c.render(w, r, s, status, "deliveries", "E-mail deliveries", "deliveries", d)
}

// retryDelivery: POST /deliveries/{id}/retry queues a failed or retrying
// e-mail again, with a fresh count of attempts, and goes back to the page
// of the button (the form's "next").
func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(w, r, s, http.StatusNotFound, "No such e-mail", "An e-mail id is a positive number.")
		return
	}
	d, err := c.svc.RetryDelivery(r.Context(), id)
	switch {
	case err == nil:
		c.logger.InfoContext(r.Context(), "console: delivery retried", "who", s.Who, "delivery_id", id, "event_id", d.EventID)
		c.setFlash(w, r, "ok", fmt.Sprintf("E-mail %d to %s queued again.", id, d.Address))
	case errors.Is(err, cloche.ErrNotFound):
		c.errorPage(w, r, s, http.StatusNotFound, "No such e-mail", fmt.Sprintf("There is no e-mail %d.", id))
		return
	case errors.Is(err, cloche.ErrConflict):
		// Sent or queued meanwhile (another operator, the sender's retry).
		state := "no longer failed"
		if d, err := c.svc.Delivery(r.Context(), id); err == nil {
			state = string(d.State)
		}
		c.setFlash(w, r, "warn", fmt.Sprintf("E-mail %d was not retried: it is %s. Only failed or retrying e-mails are.", id, state))
	default:
		c.serverError(w, r, s, "retry the e-mail", err)
		return
	}
	http.Redirect(w, r, c.localPath(r.PostForm.Get("next"), c.prefix+"/deliveries"), http.StatusSeeOther)
}

// localPath returns next when it is a page of the console, else def: a
// form cannot send the operator elsewhere.
func (c *Console) localPath(next, def string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, c.prefix+"/") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return def
	}
	return next
}
