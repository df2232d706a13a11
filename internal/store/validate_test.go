package store

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckStrings(t *testing.T) {
	tests := []struct {
		name    string
		check   func(string, string) error
		in      string
		problem string // "" for none
	}{
		{"plain text", CheckText, "Facture 42 — payée", ""},
		{"replacement char", CheckText, "a\uFFFDb", ""},
		{"NUL", CheckText, "ab\x00c", "NUL character (U+0000, at byte 2)"},
		{"invalid UTF-8", CheckText, "ab\xffc", "not valid UTF-8 (at byte 2)"},
		{"truncated rune", CheckText, "é\xc3", "not valid UTF-8 (at byte 2)"},
		{"id at limit", CheckID, strings.Repeat("a", 255), ""},
		{"id too long", CheckID, strings.Repeat("a", 256), "256 bytes long; at most 255"},
		{"id NUL", CheckID, "\x00", "NUL"},
		{"name at limit", CheckName, strings.Repeat("é", 500), ""},
		{"name too long", CheckName, strings.Repeat("é", 501), "501 characters long; at most 500"},
		{"email too long", CheckEmail, strings.Repeat("a", 250) + "@b.fr", "255 bytes long; at most 254"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check("f", tc.in)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "f" || !strings.Contains(fe.Problem, tc.problem) {
				t.Fatalf("error %v, want a FieldError on f saying %q", err, tc.problem)
			}
		})
	}
	errs := CheckIDs("user_ids", []string{"1", "2\x00", "3", strings.Repeat("x", 300)})
	if len(errs) != 2 || FieldErrors(errs[0])[0].Field != "user_ids[1]" || FieldErrors(errs[1])[0].Field != "user_ids[3]" {
		t.Fatalf("CheckIDs = %v", errs)
	}
}

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		doc   string
		field string // "" for valid
	}{
		{`{"a": "é", "b": "\ud800"}`, ""},
		{`{"title": "caf` + "\xe9" + `"}`, "title"},
		{`{"users": [{"id": 1, "name": "ok"}, {"id": 2, "groups": ["a", "b` + "\xff" + `"]}]}`, "users[1].groups[1]"},
		{`{"ctx": {"type": "x", "id": "` + "\xc3" + `"}}`, "ctx.id"},
		{`{"k` + "\xff" + `": 1}`, "k\uFFFD"},
		{`["` + "\xff" + `"]`, "[0]"},
		{`{"a": ` + "\xff" + `}`, "body"},
	}
	for _, tc := range tests {
		err := CheckJSONText([]byte(tc.doc))
		if tc.field == "" {
			if err != nil {
				t.Errorf("%q: %v, want none", tc.doc, err)
			}
			continue
		}
		fes := FieldErrors(err)
		if len(fes) != 1 || fes[0].Field != tc.field {
			t.Errorf("%q: %v, want a FieldError on %q", tc.doc, err, tc.field)
		}
	}
}
