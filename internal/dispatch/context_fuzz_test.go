package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// FuzzParseContext: "TYPE:ID" reads as a type and an id, both trimmed and
// not empty, whose String reads back the same; anything else is a field
// error on "context".
func FuzzParseContext(f *testing.F) {
	for _, seed := range []string{"invoice:42", " invoice : 42 ", "a:b:c", ":42", "invoice:", "invoice", "", ":", "é:ü", "x: :y"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseContext(s)
		if err != nil {
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != "context" {
				t.Fatalf("%q: error %v is not a field error on context", s, err)
			}
			return
		}
		if c.Type == "" || c.ID == "" || c.Type != strings.TrimSpace(c.Type) || c.ID != strings.TrimSpace(c.ID) || strings.Contains(c.Type, ":") {
			t.Fatalf("%q read as type %q, id %q", s, c.Type, c.ID)
		}
		again, err := ParseContext(c.String())
		if err != nil || *again != *c {
			t.Fatalf("%q read as %+v, whose String %q reads as %+v, %v", s, c, c.String(), again, err)
		}
	})
}
