package httpapi

import (
	"net/http"
	"strconv"

	"github.com/cloche/cloche"
)

// listDeliveries: GET /api/v1/deliveries?channel=&status=&event_id=&cursor=&limit=
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	f := cloche.DeliveryFilter{Channel: q.Get("channel"), State: cloche.DeliveryState(q.Get("status"))}
	var err error
	if v := q.Get("event_id"); v != "" {
		if f.EventID, err = strconv.ParseInt(v, 10, 64); err != nil || f.EventID <= 0 {
			return paramError("event_id", "%q is not an event id", v)
		}
	}
	if f.Limit, err = queryLimit(r, 50, 1000); err != nil {
		return err
	}
	if f.BeforeID, err = queryBeforeID(r); err != nil {
		return err
	}
	ds, err := s.svc.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(ds) == f.Limit {
		next = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, newPage(ds, next))
	return nil
}

// showDelivery: GET /api/v1/deliveries/{id}
func (s *Server) showDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.Delivery(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// retryDelivery: POST /api/v1/deliveries/{id}/retry queues a failed
// delivery again; 409 when it has not failed.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.RetryDelivery(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
