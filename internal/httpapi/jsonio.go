package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"the answer could not be encoded"}}` + "\n")
	}
	writeRawJSON(w, status, b)
}

// encodeJSON encodes v as writeJSON sends it.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeRawJSON sends an encoded JSON answer.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readBody reads the whole request body (bounded by the route's limit).
// Every body is JSON, which is UTF-8: a body that is not is refused,
// naming the field that holds the first bad byte, rather than decoded
// with U+FFFD in its place (store.CheckJSONText).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, newError(http.StatusBadRequest, codeBadRequest, "the request body could not be read: %v", err)
	}
	if err := store.CheckJSONText(b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeJSON reads the body into v, refusing unknown fields. An empty body
// is refused unless optional.
func decodeJSON(r *http.Request, v any, optional bool) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return newError(http.StatusBadRequest, codeInvalidJSON, "the request body is empty; send a JSON object")
	}
	return unmarshalStrict(b, v)
}

// unmarshalStrict decodes one JSON value from b into v, refusing unknown
// fields and trailing data, and turns decoding errors into answers: a body
// that is not JSON is a 400, a JSON value of the wrong type or an unknown
// field a field error (422) naming it.
func unmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newError(http.StatusBadRequest, codeInvalidJSON, "the request body has data after its JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		fe  *cloche.FieldError
	)
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &syn):
		return newError(http.StatusBadRequest, codeInvalidJSON, "the request body is not valid JSON (at byte %d): %v", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, codeInvalidJSON, "the request body is truncated JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return newError(http.StatusBadRequest, codeInvalidJSON, "the request body must be a JSON object, not %s", typ.Value)
		}
		return store.Invalid(field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return store.Invalid(name, "is not a known field")
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	// Errors of UnmarshalJSON methods (ids, datetimes) name no field.
	return newError(http.StatusBadRequest, codeInvalidJSON, "the request body could not be read: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a number"
}
