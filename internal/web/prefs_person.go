package web

import (
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// A person's preferences beyond channels, in the same form as their grid
// and saved with it in one transaction (an empty field is its default,
// as in the API's PUT): time zone, quiet hours, and the unread delay. The
// person's digests are not on the form and stay as they are.

// weekDays are the quiet days offered, in week order.
var weekDays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// personFields are the person's fields as shown and posted.
type personFields struct {
	TimeZone      string // what the person set; "" the organisation's
	OrgZone       string // the organisation's, which "" amounts to
	QuietStart    string // "HH:MM"; both times "" with days: whole days only
	QuietEnd      string
	Days          []dayBox
	EmailIfUnread string            // minutes; "" the type's
	Errors        map[string]string // by field: time_zone, quiet_hours.start, quiet_hours.end, quiet_hours.days, email_if_unread_minutes
}

// dayBox is one quiet day's checkbox.
type dayBox struct {
	Value   string
	Checked bool
}

// newPersonFields lays out p; zone is the person's own (the directory's
// time_zone, "" when they set none).
func newPersonFields(p *cloche.PersonPreferences, zone, orgZone string) *personFields {
	f := &personFields{TimeZone: zone, OrgZone: orgZone, Errors: map[string]string{}}
	on := map[string]bool{}
	if h := p.QuietHours; h != nil {
		f.QuietStart, f.QuietEnd = h.Start, h.End
		for _, d := range h.Days {
			on[d] = true
		}
		if h.Start == h.End && len(h.Days) > 0 {
			f.QuietStart, f.QuietEnd = "", "" // no daily window: whole days only
		}
	}
	for _, d := range weekDays {
		f.Days = append(f.Days, dayBox{Value: d, Checked: on[d]})
	}
	if m := p.EmailIfUnreadMinutes; m != nil {
		f.EmailIfUnread = strconv.Itoa(*m)
	}
	return f
}

// readPerson takes the posted fields into f and returns the document
// they make. ok is false when a field cannot even be read (then nothing
// is sent to the service); the service checks the rest.
func readPerson(f *personFields, form map[string][]string) (doc cloche.PersonPreferences, ok bool) {
	get := func(name string) string {
		if vs := form[name]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	f.TimeZone, f.QuietStart, f.QuietEnd, f.EmailIfUnread = get("time_zone"), get("quiet_start"), get("quiet_end"), get("email_if_unread_minutes")
	doc.TimeZone = f.TimeZone
	checked := map[string]bool{}
	for _, d := range form["quiet_days"] {
		checked[d] = true
	}
	var days []string
	for i := range f.Days {
		f.Days[i].Checked = checked[f.Days[i].Value]
		if f.Days[i].Checked {
			days = append(days, f.Days[i].Value)
		}
	}
	switch {
	case f.QuietStart == "" && f.QuietEnd == "" && len(days) > 0:
		doc.QuietHours = &cloche.QuietHours{Start: "00:00", End: "00:00", Days: days} // whole days only
	case f.QuietStart != "" || f.QuietEnd != "" || len(days) > 0:
		doc.QuietHours = &cloche.QuietHours{Start: f.QuietStart, End: f.QuietEnd, Days: days}
	}
	ok = true
	if f.EmailIfUnread != "" {
		n, err := strconv.Atoi(f.EmailIfUnread)
		if err != nil {
			f.Errors["email_if_unread_minutes"] = strconv.Quote(f.EmailIfUnread) + " is not a whole number of minutes (empty: the type's delay; 0: never wait)"
			return doc, false
		}
		doc.EmailIfUnreadMinutes = &n
	}
	return doc, ok
}

// place puts a service error about the person's fields next to its field
// and reports whether it was one.
func (f *personFields) place(fe *cloche.FieldError) bool {
	field := fe.Field
	if strings.HasPrefix(field, "quiet_hours.days") {
		field = "quiet_hours.days" // quiet_hours.days[1]: the days' fieldset
	}
	switch field {
	case "time_zone", "quiet_hours.start", "quiet_hours.end", "quiet_hours.days", "email_if_unread_minutes":
	default:
		return false
	}
	msg := fe.Problem
	if fe.Hint != "" {
		msg += " (" + fe.Hint + ")"
	}
	if f.Errors[field] != "" {
		msg = f.Errors[field] + "; " + msg
	}
	f.Errors[field] = msg
	return true
}
