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

// Error is a refusal whose message is for the person who asked: it speaks
// of their objects ("event 29 is already cancelled"), never of the
// backend. Kind is the sentinel it matches with errors.Is; Err, when set,
// is the cause, kept in the chain for logs.
type Error struct {
	Kind error
	Msg  string
	Err  error
}

// Errorf returns an *Error of kind with a message for the user.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, e.Kind) true.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UserError returns err as its user should read it, naming what the
// request was about (`event 29`, `user "42"`) when err does not say it
// better itself:
//
//   - a *FieldError (or several): those alone, without the layers that
//     wrapped them;
//   - an *Error: as it is;
//   - ErrNotFound, ErrConflict, ErrInUse: an *Error saying what is
//     missing or refused ("event 29 not found"), the cause kept;
//   - anything else (an unreachable database, a failure of the backend):
//     what, then err, for the operator and the logs.
func UserError(what string, err error) error {
	if err == nil {
		return nil
	}
	if fes := FieldErrors(err); len(fes) == 1 {
		return fes[0]
	} else if len(fes) > 1 {
		errs := make([]error, len(fes))
		for i, fe := range fes {
			errs[i] = fe
		}
		return errors.Join(errs...)
	}
	var ue *Error
	if errors.As(err, &ue) {
		return ue
	}
	for _, k := range []struct {
		kind error
		says string
	}{
		{ErrNotFound, "not found"},
		{ErrInUse, "is in use"},
		{ErrConflict, "conflicts with its current state"},
	} {
		if errors.Is(err, k.kind) {
			return &Error{Kind: k.kind, Msg: what + " " + k.says, Err: err}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// TypeInUse is TypeDelete's refusal of a type that n events use.
func TypeInUse(key string, n int) *Error {
	events := "events"
	if n == 1 {
		events = "event"
	}
	return Errorf(ErrInUse, "type %q is used by %d %s; it cannot be deleted", key, n, events)
}

// DeliveryNotRetryable is DeliveryRetry's refusal of a delivery in state.
func DeliveryNotRetryable(id int64, state DeliveryState) *Error {
	return Errorf(ErrConflict, "delivery %d is %s: only a failed or retrying delivery can be retried", id, state)
}
