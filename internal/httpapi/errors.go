package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cloche/cloche"
)

// errorBody is the one shape of every error answer:
//
//	{"error": {"code": "invalid_field", "field": "due_datetime", "message": "…"}}
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string         `json:"code"`
	Field     string         `json:"field,omitempty"`
	Message   string         `json:"message"`
	Details   []fieldProblem `json:"details,omitempty"` // every field, when several are wrong
	RequestID string         `json:"request_id,omitempty"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error codes, with their statuses.
const (
	codeBadRequest      = "bad_request"       // 400: the request cannot be read
	codeInvalidJSON     = "invalid_json"      // 400: the body is not JSON
	codeInvalidParam    = "invalid_parameter" // 400: a path or query parameter is malformed
	codeUnauthorized    = "unauthorized"      // 401
	codeForbidden       = "forbidden"         // 403
	codeNotFound        = "not_found"         // 404
	codeMethod          = "method_not_allowed"
	codeConflict        = "conflict"       // 409
	codeInUse           = "in_use"         // 409
	codeTooLarge        = "too_large"      // 413
	codeInvalidField    = "invalid_field"  // 422
	codeRateLimited     = "rate_limited"   // 429
	codeInternal        = "internal"       // 500
	codeUnavailable     = "unavailable"    // 503
	codeTimeout         = "timeout"        // 503
	codeOriginForbidden = "origin_refused" // 403, CORS preflight
)

// apiError is an error that knows its answer: the HTTP layer's own
// failures (authentication, limits, malformed parameters).
type apiError struct {
	status  int
	code    string
	field   string
	message string
	header  http.Header // extra headers (WWW-Authenticate, Retry-After)
}

func (e *apiError) Error() string { return e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// paramError is a malformed path or query parameter.
func paramError(field, format string, args ...any) *apiError {
	e := newError(http.StatusBadRequest, codeInvalidParam, format, args...)
	e.field = field
	return e
}

// unauthorized is a missing or bad credential; the WWW-Authenticate header
// tells clients to send a bearer token.
func unauthorized(msg string, invalid bool) *apiError {
	e := newError(http.StatusUnauthorized, codeUnauthorized, "%s", msg)
	v := `Bearer realm="cloche"`
	if invalid {
		v += `, error="invalid_token"`
	}
	e.header = http.Header{"Www-Authenticate": {v}}
	return e
}

// writeError answers err. It is the one place that maps errors to
// statuses and codes:
//
//   - *apiError: as it says;
//   - *http.MaxBytesError: 413 too_large;
//   - *cloche.FieldError (one or several, joined): 422 invalid_field, naming
//     the first field (and every one in details);
//   - cloche.ErrUnauthenticated: 401; ErrNotFound: 404; ErrConflict: 409
//     conflict; ErrInUse: 409 in_use; ErrInvalid without a field: 422;
//   - cloche.ErrUnavailable and a context that ran out: 503;
//   - anything else: 500, logged with the request id, its text not shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoOf(r.Context())
	body := errorBody{Error: errorDetail{RequestID: info.id}}
	status := http.StatusInternalServerError
	d := &body.Error

	var (
		ae  *apiError
		mbe *http.MaxBytesError
	)
	fields := cloche.FieldErrors(err)
	switch {
	case errors.As(err, &ae):
		status, d.Code, d.Field, d.Message = ae.status, ae.code, ae.field, ae.message
		for k, vs := range ae.header {
			w.Header()[k] = vs
		}
	case errors.As(err, &mbe):
		status, d.Code = http.StatusRequestEntityTooLarge, codeTooLarge
		d.Message = fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)
	case len(fields) > 0:
		status, d.Code = http.StatusUnprocessableEntity, codeInvalidField
		d.Field, d.Message = fields[0].Field, problemOf(fields[0])
		if len(fields) > 1 {
			for _, fe := range fields {
				d.Details = append(d.Details, fieldProblem{Field: fe.Field, Message: problemOf(fe)})
			}
		}
	case errors.Is(err, cloche.ErrUnauthenticated):
		ae := unauthorized(err.Error(), true)
		for k, vs := range ae.header {
			w.Header()[k] = vs
		}
		status, d.Code, d.Message = ae.status, ae.code, ae.message
	case errors.Is(err, cloche.ErrNotFound):
		status, d.Code, d.Message = http.StatusNotFound, codeNotFound, err.Error()
	case errors.Is(err, cloche.ErrInUse):
		status, d.Code, d.Message = http.StatusConflict, codeInUse, err.Error()
	case errors.Is(err, cloche.ErrConflict):
		status, d.Code, d.Message = http.StatusConflict, codeConflict, err.Error()
	case errors.Is(err, cloche.ErrInvalid):
		status, d.Code, d.Message = http.StatusUnprocessableEntity, codeInvalidField, err.Error()
	case errors.Is(err, cloche.ErrUnavailable):
		status, d.Code, d.Message = http.StatusServiceUnavailable, codeUnavailable, "the database is unavailable; try again later"
		s.logger.WarnContext(r.Context(), "http: database unavailable", "request_id", info.id, "err", err)
	case errors.Is(err, context.DeadlineExceeded):
		status, d.Code, d.Message = http.StatusServiceUnavailable, codeTimeout, "the request took too long; try again later"
		s.logger.WarnContext(r.Context(), "http: request timed out", "request_id", info.id, "err", err)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away: nobody reads the answer.
		status, d.Code, d.Message = 499, "canceled", "the request was canceled"
	default:
		d.Code, d.Message = codeInternal, "internal error; the server log has the details under this request_id"
		s.logger.ErrorContext(r.Context(), "http: internal error", "request_id", info.id,
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	info.errCode = d.Code
	writeJSON(w, status, body)
}

// problemOf is the message of a field error: its problem and hint.
func problemOf(fe *cloche.FieldError) string {
	if fe.Hint != "" {
		return fe.Problem + " (" + fe.Hint + ")"
	}
	return fe.Problem
}

// rateLimited is the answer when a caller goes too fast.
func rateLimited(retryAfterSeconds int, who string) *apiError {
	e := newError(http.StatusTooManyRequests, codeRateLimited, "too many requests for %s; retry in %d s", who, retryAfterSeconds)
	e.header = http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}}
	return e
}
