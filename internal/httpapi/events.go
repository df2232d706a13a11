package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/store"
)

// notify: POST /api/v1/events. With an Idempotency-Key header, a retry of
// the same request within 24 hours returns the first answer (and
// Idempotent-Replayed: true) instead of notifying again; the same key with
// another request is a 422 on the field Idempotency-Key.
// notifyMaxBody bounds a notify's body: http.max_body_bytes, plus room
// for email.max_attachment_size of attachments in base64 (4 bytes for 3)
// and their names, so that the service, not the body limit, says when
// attachments weigh too much.
func (s *Server) notifyMaxBody() int64 {
	att := int64(s.cfg.Email.MaxAttachmentSize)
	return s.cfg.HTTP.MaxBodyBytes + (att+2)/3*4 + int64(dispatch.MaxAttachments)*1024
}

func (s *Server) notify(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := decodeNotify(b, s.svc.Location())
	if err != nil {
		return err
	}
	n, rcp, opts := req.notification()
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		// Keys are per host application: scoped by the API key's name,
		// which survives a key's rotation.
		opts = append(opts, cloche.Idempotent(infoOf(r.Context()).apiKey.Name, key, req.fingerprint()))
	}
	res, err := s.svc.Notify(r.Context(), n, rcp, opts...)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/events/"+strconv.FormatInt(res.EventID, 10))
	if res.Reached == nil {
		res.Reached = map[cloche.Channel]int{}
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// listEvents: GET /api/v1/events?status=&key=&context=TYPE:ID&cursor=&limit=
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	f := cloche.EventFilter{Status: cloche.EventStatus(q.Get("status")), Key: q.Get("key")}
	var err error
	if f.Limit, err = queryLimit(r, 50, 1000); err != nil {
		return err
	}
	if f.BeforeID, err = queryBeforeID(r); err != nil {
		return err
	}
	if c := q.Get("context"); c != "" {
		if f.Context, err = cloche.ParseContext(c); err != nil {
			return err
		}
	}
	evs, err := s.svc.Events(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(evs) == f.Limit {
		next = strconv.FormatInt(evs[len(evs)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, newPage(evs, next))
	return nil
}

// eventView is an event with the states of its e-mail deliveries.
type eventView struct {
	*cloche.Event
	Deliveries map[cloche.DeliveryState]int `json:"deliveries,omitempty"`
	Muted      []cloche.PreferenceSkip      `json:"muted,omitempty"`
}

// showEvent: GET /api/v1/events/{id}
func (s *Server) showEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ev, err := s.svc.Event(r.Context(), id)
	if err != nil {
		return err
	}
	view := eventView{Event: ev}
	if ev.Counts == nil {
		ev.Counts = map[cloche.Channel]int{}
	}
	if ev.Channel == cloche.ChannelEmail || ev.Counts[cloche.ChannelEmail] > 0 {
		if view.Deliveries, err = s.svc.DeliveryStates(r.Context(), id); err != nil {
			return err
		}
	}
	if view.Muted, err = s.mutedReport(r, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// cancelled is the answer of both cancels.
type cancelled struct {
	Cancelled []int64 `json:"cancelled"`
}

// cancelEvent: POST /api/v1/events/{id}/cancel. 409 when the event is no
// longer pending.
func (s *Server) cancelEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.CancelEvent(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cancelled{Cancelled: []int64{id}})
	return nil
}

// cancelByContextRequest is the body of POST /api/v1/events/cancel.
type cancelByContextRequest struct {
	Context *contextField `json:"context"`
	Key     string        `json:"key"`
}

// cancelByContext: POST /api/v1/events/cancel {"context": …, "key": …}
// cancels the pending events about an object (of one type, with key).
func (s *Server) cancelByContext(w http.ResponseWriter, r *http.Request) error {
	var req cancelByContextRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Context == nil {
		return requiredField("context", `is required: {"type": "invoice", "id": "42"} or "invoice:42"`)
	}
	ids, err := s.svc.CancelEvents(r.Context(), cloche.Context(*req.Context), req.Key)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []int64{}
	}
	writeJSON(w, http.StatusOK, cancelled{Cancelled: ids})
	return nil
}

// contextField reads a context as the notify request does.
type contextField cloche.Context

func (c *contextField) UnmarshalJSON(b []byte) error {
	v, err := jsonContext(b)
	if err != nil {
		var fe *cloche.FieldError
		if errors.As(err, &fe) {
			return fe
		}
		return store.Invalid("context", "%v", err)
	}
	*c = contextField(*v)
	return nil
}

// requiredField is the error of a missing field.
func requiredField(field, problem string) error { return store.Invalid(field, "%s", problem) }
