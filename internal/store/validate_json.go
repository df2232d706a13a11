package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// CheckJSONText refuses a JSON document that is not valid UTF-8, naming
// the field whose string holds the first invalid byte ("users[3].name").
// JSON decoders would otherwise replace such bytes with U+FFFD, silently
// storing something else than what was sent. Escaped lone surrogates
// ("\ud800") are valid JSON text; decoders turn them into U+FFFD, and
// Cloche keeps that.
//
// It returns nil, or a *FieldError.
func CheckJSONText(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	at := invalidAt(string(b))
	field := jsonPathAt(b, at)
	if field == "" {
		field = "body"
	}
	return Invalid(field, "is not valid UTF-8 (at byte %d of the document)", at)
}

// jsonPathAt is the path of the key or value of b that holds byte at, or
// "" when it cannot tell (b is not JSON, or at lies outside any string).
func jsonPathAt(b []byte, at int) string {
	type frame struct {
		object  bool
		key     string
		index   int
		wantKey bool
	}
	var stack []*frame
	path := func() string {
		var out []byte
		for _, f := range stack {
			if f.object {
				if len(out) > 0 {
					out = append(out, '.')
				}
				out = append(out, f.key...)
			} else {
				out = append(out, '[')
				out = strconv.AppendInt(out, int64(f.index), 10)
				out = append(out, ']')
			}
		}
		return string(out)
	}
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		inside := int64(at) >= start && int64(at) < dec.InputOffset()
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			if key, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].wantKey = key, false
				if inside {
					return path()
				}
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			if inside {
				return path()
			}
			valueDone()
		}
	}
}
