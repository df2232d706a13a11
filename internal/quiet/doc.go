// Package quiet computes when a person may be e-mailed: their time zone
// (an IANA name, checked against the zone database the binary carries,
// with the nearest name suggested for a typo) and their quiet hours (a
// daily window and whole days, in that zone), through one pure function,
// NextAllowed, that knows midnight and daylight-saving changes.
package quiet

//go:generate go run ./internal/genzones
