package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, paramError(name, "%q is not an id (a positive integer)", v)
	}
	return id, nil
}

// queryOf is r's query, parsed once per request.
func queryOf(r *http.Request) url.Values {
	info := infoOf(r.Context())
	if info.query == nil {
		info.query = r.URL.Query()
	}
	return info.query
}

// queryLimit reads ?limit=, between 1 and most.
func queryLimit(r *http.Request, def, most int) (int, error) {
	v := queryOf(r).Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, paramError("limit", "%q is not a page size from 1 to %d", v, most)
	}
	return n, nil
}

// queryBeforeID reads ?cursor= of lists ordered by descending id (the
// id of the last item of the previous page).
func queryBeforeID(r *http.Request) (int64, error) {
	v := queryOf(r).Get("cursor")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, paramError("cursor", "%q is not a cursor from a previous page", v)
	}
	return id, nil
}

// queryBool reads ?name=true|false.
func queryBool(r *http.Request, name string) (bool, error) {
	switch v := strings.ToLower(queryOf(r).Get(name)); v {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	default:
		return false, paramError(name, "%q is not true or false", v)
	}
}

// queryChannel reads ?channel=, an in-app channel.
func queryChannel(r *http.Request) (cloche.Channel, error) {
	v := cloche.Channel(queryOf(r).Get("channel"))
	if v != "" && !v.InApp() {
		return "", store.Invalid("channel", "%q is not an in-app channel (message, header_message, alert)", v)
	}
	return v, nil
}

// page is the shape of every list: items, and the cursor of the next page
// when there is one.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	return page[T]{Items: items, Next: next}
}
