package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every backend maps its driver errors to these, so callers
// test with errors.Is and never look at driver types.
var (
	// ErrNotFound: the row asked for does not exist (or is not the caller's).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with the current state of a row.
	ErrConflict = errors.New("conflict")
	// ErrInUse: the row cannot be deleted because other rows refer to it.
	ErrInUse = errors.New("in use")
	// ErrInvalid: the input is malformed. Errors of this kind are *FieldError.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable: the database cannot be reached.
	ErrUnavailable = errors.New("database unavailable")
)

// FieldError names the field of an input that is wrong and says why.
// It matches ErrInvalid with errors.Is.
type FieldError struct {
	Field   string // dotted path, e.g. "users[3].email"
	Problem string // lower-case sentence fragment, e.g. "must not be empty"
	Hint    string // optional: what to do about it
}

// Invalid returns a *FieldError for field.
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func (e *FieldError) Error() string {
	msg := e.Field + ": " + e.Problem
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// FieldErrors finds every *FieldError in err's tree (errors.Join gives
// several), in order.
func FieldErrors(err error) []*FieldError {
	if fe, ok := err.(*FieldError); ok {
		return []*FieldError{fe}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return FieldErrors(u.Unwrap())
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, e := range u.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
		return out
	}
	return nil
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// WithHint returns e with a hint attached.
func (e *FieldError) WithHint(hint string) *FieldError {
	e.Hint = hint
	return e
}
