package httpapi

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloche/cloche"
)

// A page of an inbox is the answer read most often, and, with the inbox
// cache off, encoded at every read: encoding/json's reflection over 20
// items was a fifth of the page's time in the handler (issue 14, "Cold
// inbox reads"). appendInboxPage writes the same bytes by hand;
// TestInboxPageJSON holds it to encodeJSON's output.

// appendInboxPage appends the JSON of newPage(items, next), as encodeJSON
// writes it (newline included). ok is false when an item holds what only
// encoding/json knows how to write or refuse (a time outside years
// 0–9999): the caller then uses encodeJSON.
func appendInboxPage(b []byte, items []cloche.InboxItem, next string) ([]byte, bool) {
	b = append(b, `{"items":[`...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendInboxItem(b, &items[i]); !ok {
			return b, false
		}
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"next":`...)
		b = appendJSONString(b, next)
	}
	return append(b, "}\n"...), true
}

func appendInboxItem(b []byte, it *cloche.InboxItem) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, it.ID, 10)
	b = append(b, `,"event_id":`...)
	b = strconv.AppendInt(b, it.EventID, 10)
	b = appendField(b, "user_id", it.UserID)
	b = appendField(b, "channel", string(it.Channel))
	b = appendField(b, "key", it.Key)
	b = appendField(b, "status_type", string(it.StatusType))
	b = appendField(b, "title", it.Title)
	b = appendField(b, "body", it.Body)
	if it.ContextType != "" {
		b = appendField(b, "context_type", it.ContextType)
	}
	if it.ContextID != "" {
		b = appendField(b, "context_id", it.ContextID)
	}
	ok := true
	b, ok = appendTimeField(b, "created_at", it.CreatedAt, ok)
	b, ok = appendTimeField(b, "visible_at", it.VisibleAt, ok)
	if it.ExpiresAt != nil {
		b, ok = appendTimeField(b, "expires_at", *it.ExpiresAt, ok)
	}
	if it.ReadAt != nil {
		b, ok = appendTimeField(b, "read_at", *it.ReadAt, ok)
	}
	if it.URL != "" {
		b = appendField(b, "url", it.URL)
	}
	if len(it.Actions) > 0 {
		b = append(b, `,"actions":[`...)
		for i, a := range it.Actions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"label":`...)
			b = appendJSONString(b, a.Label)
			if a.URL != "" {
				b = appendField(b, "url", a.URL)
			}
			if a.Callback {
				b = append(b, `,"callback":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if it.ArchivedAt != nil {
		b, ok = appendTimeField(b, "archived_at", *it.ArchivedAt, ok)
	}
	return append(b, '}'), ok
}

// appendField appends ,"name":"value".
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

// appendTimeField appends ,"name":"t" as time.Time's MarshalJSON writes it
// (RFC 3339, nanoseconds without trailing zeros); ok turns false for a
// year it refuses.
func appendTimeField(b []byte, name string, t time.Time, ok bool) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		ok = false
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), ok
}

// appendJSONString appends s quoted as encoding/json writes it without
// HTML escaping: the common string (printable, valid UTF-8, no U+2028 or
// U+2029) as is, any other through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if plain && !ascii && (!utf8.ValidString(s) || strings.ContainsAny(s, "\u2028\u2029")) {
		plain = false
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, err := encodeJSON(s)
	if err != nil { // a string always encodes
		return strconv.AppendQuote(b, s)
	}
	return append(b, enc[:len(enc)-1]...) // without the encoder's newline
}
