package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cloche/cloche"
)

// deliveriesData is the deliveries page. There is no retry button: the
// service has no way to retry a delivery yet.
type deliveriesData struct {
	State      string
	EventID    int64
	Error      string
	Deliveries []cloche.Delivery
	Next       int64
	States     []cloche.DeliveryState
}

var deliveryStates = []cloche.DeliveryState{"queued", "sending", "sent", "retrying", "failed"}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &deliveriesData{State: q.Get("state"), States: deliveryStates}
	f := cloche.DeliveryFilter{State: cloche.DeliveryState(d.State), Limit: pageSize}
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
