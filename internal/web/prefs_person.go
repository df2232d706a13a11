package web

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// A person's preferences beyond channels, in the same form as their grid
// and saved with it in one transaction (an empty field is its default,
// as in the API's PUT): time zone, quiet hours, the unread delay, and the
// digests (the person's own and per category). A form posted without the
// digest fields (digest_frequency absent) leaves the digests as they are.

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
	Digest        digestRow         // the person's own (Category "")
	Categories    []digestRow       // per category, then an empty row to add one
	DigestFreqs   []string          // the frequencies offered
	WeekDays      []string          // the days offered for a weekly digest
	rowOf         []int             // a posted category digest's row (readDigests)
	Errors        map[string]string // by field: time_zone, quiet_hours.start, quiet_hours.end, quiet_hours.days, email_if_unread_minutes, digest.at…
}

// digestRow is one digest schedule as shown and posted; its errors are
// under Errors[Field+".at"] and so on.
type digestRow struct {
	Field     string // "digest" or "category_digests[i]" (i: the row's place)
	Category  string
	Frequency string // a category's "": none, the person's own applies
	At        string
	Day       string
}

// digestFrequencies are the frequencies offered, in order.
var digestFrequencies = []string{"immediate", "hourly", "daily", "weekly"}

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
	f.DigestFreqs, f.WeekDays = digestFrequencies, weekDays
	f.Digest = digestRow{Field: "digest", Frequency: "immediate"}
	if d := p.Digest; d != nil {
		f.Digest.Frequency, f.Digest.At, f.Digest.Day = cmp.Or(d.Frequency, "immediate"), d.At, d.Day
	}
	for _, c := range p.CategoryDigests {
		f.Categories = append(f.Categories, digestRow{Category: c.Category, Frequency: c.Frequency, At: c.At, Day: c.Day})
	}
	f.Categories = append(f.Categories, digestRow{})
	f.numberRows()
	return f
}

// numberRows names each category row's field by its place.
func (f *personFields) numberRows() {
	for i := range f.Categories {
		f.Categories[i].Field = fmt.Sprintf("category_digests[%d]", i)
	}
}

// readDigests takes the posted digest fields into f and returns the
// change they make (the whole set), nil when the form has none. A
// category row without frequency is left out (the empty row to add one; a
// category's frequency emptied removes it). f.rowOf maps the change's
// category index to its row, to put the service's errors there.
func readDigests(f *personFields, form map[string][]string) *cloche.DigestChange {
	if _, posted := form["digest_frequency"]; !posted {
		return nil
	}
	get := func(name string, i int) string {
		if vs := form[name]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	f.Digest = digestRow{Field: "digest", Frequency: get("digest_frequency", 0), At: get("digest_at", 0), Day: get("digest_day", 0)}
	c := &cloche.DigestChange{Digest: &cloche.DigestSchedule{Frequency: f.Digest.Frequency, At: f.Digest.At, Day: f.Digest.Day}}
	f.Categories, f.rowOf = nil, nil
	for i := range form["category_digest_category"] {
		r := digestRow{Category: get("category_digest_category", i), Frequency: get("category_digest_frequency", i),
			At: get("category_digest_at", i), Day: get("category_digest_day", i)}
		f.Categories = append(f.Categories, r)
		if r.Frequency == "" {
			continue // none: the person's own applies
		}
		c.Categories = append(c.Categories, cloche.CategoryDigest{Category: r.Category, DigestSchedule: cloche.DigestSchedule{Frequency: r.Frequency, At: r.At, Day: r.Day}})
		f.rowOf = append(f.rowOf, i)
	}
	if n := len(f.Categories); n == 0 || f.Categories[n-1] != (digestRow{}) {
		f.Categories = append(f.Categories, digestRow{})
	}
	f.numberRows()
	return c
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

var categoryDigestField = regexp.MustCompile(`^category_digests\[(\d+)\]\.(category|frequency|at|day)$`)

// place puts a service error about the person's fields next to its field
// and reports whether it was one.
func (f *personFields) place(fe *cloche.FieldError) bool {
	field := fe.Field
	if strings.HasPrefix(field, "quiet_hours.days") {
		field = "quiet_hours.days" // quiet_hours.days[1]: the days' fieldset
	}
	switch field {
	case "time_zone", "quiet_hours.start", "quiet_hours.end", "quiet_hours.days", "email_if_unread_minutes",
		"digest.frequency", "digest.at", "digest.day":
	default:
		m := categoryDigestField.FindStringSubmatch(field)
		if m == nil {
			return false
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(f.rowOf) {
			return false
		}
		field = fmt.Sprintf("category_digests[%d].%s", f.rowOf[i], m[2]) // the change's index: the row's
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
