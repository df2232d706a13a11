package store

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on the strings Cloche stores. Both backends would store longer
// ones; the limits keep what one accepts the same as what the other does,
// and indexes small.
const (
	// MaxIDLen bounds ids (users, companies, contexts), group names, type
	// keys and API key names, in bytes.
	MaxIDLen = 255
	// MaxNameLen bounds names, labels and titles, in characters.
	MaxNameLen = 500
	// MaxEmailLen bounds an e-mail address, in bytes (RFC 5321).
	MaxEmailLen = 254
)

// CheckText refuses what no backend stores alike: a string that is not
// valid UTF-8 (SQLite keeps the bytes, PostgreSQL refuses them) or holds
// U+0000 (PostgreSQL refuses it in text, SQLite cuts or keeps it). Every
// string that enters Cloche passes here, whatever its way in (the API,
// the command line, the console, the Go API). Lone UTF-16 surrogates
// cannot reach it: JSON decoders and Go's string conversions turn them
// into U+FFFD, which is kept as it is.
//
// It returns nil, or a *FieldError on field.
func CheckText(field, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return Invalid(field, "must not contain the NUL character (U+0000, at byte %d)", i)
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "is not valid UTF-8 (at byte %d)", invalidAt(s))
	}
	return nil
}

// CheckID is CheckText for an id, a group name or a key: at most MaxIDLen
// bytes.
func CheckID(field, s string) error {
	if err := CheckText(field, s); err != nil {
		return err
	}
	if len(s) > MaxIDLen {
		return Invalid(field, "is %d bytes long; at most %d are allowed", len(s), MaxIDLen)
	}
	return nil
}

// CheckName is CheckText for a name, a label or a title: at most
// MaxNameLen characters.
func CheckName(field, s string) error {
	if err := CheckText(field, s); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLen {
		return Invalid(field, "is %d characters long; at most %d are allowed", n, MaxNameLen)
	}
	return nil
}

// CheckEmail is CheckText for an e-mail address: at most MaxEmailLen
// bytes. It does not check the address's form.
func CheckEmail(field, s string) error {
	if err := CheckText(field, s); err != nil {
		return err
	}
	if len(s) > MaxEmailLen {
		return Invalid(field, "is %d bytes long; at most %d are allowed", len(s), MaxEmailLen)
	}
	return nil
}

// CheckIDs is CheckID for each of ids, naming them field[i].
func CheckIDs(field string, ids []string) []error {
	var errs []error
	for i, id := range ids {
		if err := CheckID(field+"["+strconv.Itoa(i)+"]", id); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// invalidAt is the offset of the first byte of s that is not UTF-8.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}
