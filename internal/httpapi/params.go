package httpapi

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// pathWildcards are the names of the wildcards of a route's path
// ("/users/{id}/notifications/{nid}": id, nid).
func pathWildcards(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return names
}

// checkParams refuses, before any handler reads them, path parameters
// and query values that no backend stores alike (U+0000, invalid UTF-8)
// and path ids longer than an id may be (store.CheckID, store.CheckText):
// a 400 naming the parameter.
func checkParams(r *http.Request, wildcards []string) error {
	for _, name := range wildcards {
		if err := store.CheckID(name, r.PathValue(name)); err != nil {
			return asParamError(err)
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q := queryOf(r)
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := store.CheckText("query parameter name", name); err != nil {
			return asParamError(err)
		}
		for _, v := range q[name] {
			if err := store.CheckText(name, v); err != nil {
				return asParamError(err)
			}
		}
	}
	return nil
}

// asParamError turns a field error on a parameter into its 400.
func asParamError(err error) error {
	fes := cloche.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	return paramError(fes[0].Field, "%s", problemOf(fes[0]))
}

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
