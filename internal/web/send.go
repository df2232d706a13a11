package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/dispatch"
)

// sendFields are the send form's values, as typed.
type sendFields struct {
	Key, Title, Body                       string
	Groups, UserIDs, CompanyID, FollowerOf string
	AccountType                            string
	Channel                                string
	Due, Until                             string
	Context, CheckURL                      string
}

// sendData is the send form: the values, the errors per field (keyed by
// the form field's name), and the errors that belong to no field.
type sendData struct {
	F      sendFields
	Errors map[string]string
	Other  []string
	Types  []cloche.NotificationType
}

func (c *Console) sendForm(w http.ResponseWriter, r *http.Request, s *session) {
	d := &sendData{F: sendFields{Key: r.URL.Query().Get("key")}}
	if d.F.Key == "" {
		d.F.Key = "message:internal"
	}
	c.renderSend(w, r, s, http.StatusOK, d)
}

func (c *Console) renderSend(w http.ResponseWriter, r *http.Request, s *session, status int, d *sendData) {
	types, err := c.svc.Types(r.Context())
	if err != nil {
		c.serverError(w, r, s, "list the notification types", err)
		return
	}
	d.Types = types
	c.render(w, r, s, status, "send", "Send a notification", "send", d)
}

func (c *Console) send(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	d := &sendData{F: sendFields{
		Key: f.Get("key"), Title: f.Get("title"), Body: f.Get("body"),
		Groups: f.Get("groups"), UserIDs: f.Get("user_ids"), CompanyID: f.Get("company_id"), FollowerOf: f.Get("follower_of"),
		AccountType: f.Get("account_type"),
		Channel:     f.Get("channel"), Due: f.Get("due"), Until: f.Get("until"),
		Context: f.Get("context"), CheckURL: f.Get("check_url"),
	}, Errors: map[string]string{}}

	loc := c.svc.Location()
	n := cloche.Notification{Key: d.F.Key, Title: d.F.Title, Body: normalizeNewlines(d.F.Body), CheckURL: strings.TrimSpace(d.F.CheckURL)}
	var err error
	if n.DueAt, err = parseLocal(d.F.Due, loc); err != nil {
		d.Errors["due"] = err.Error()
	}
	if n.Until, err = parseLocal(d.F.Until, loc); err != nil {
		d.Errors["until"] = err.Error()
	}
	if ctxText := strings.TrimSpace(d.F.Context); ctxText != "" {
		if n.Context, err = cloche.ParseContext(ctxText); err != nil {
			d.Errors["context"] = fmt.Sprintf("%q is not TYPE:ID, e.g. invoice:42", ctxText)
		}
	}
	rcpt := cloche.Recipients{
		GroupNames:     splitList(d.F.Groups),
		UserIDs:        splitList(d.F.UserIDs),
		CompanyID:      strings.TrimSpace(d.F.CompanyID),
		FollowerUserID: strings.TrimSpace(d.F.FollowerOf),
		AccountType:    strings.TrimSpace(d.F.AccountType),
	}
	var opts []cloche.NotifyOption
	if d.F.Channel != "" {
		opts = append(opts, cloche.ForceChannel(cloche.Channel(d.F.Channel)))
	}
	if len(d.Errors) > 0 {
		// Check the rest too, so that every wrong field shows at once.
		var o dispatch.Options
		for _, opt := range opts {
			opt(&o)
		}
		c.fieldErrors(d, dispatch.Validate(&n, &rcpt, o, c.now()))
		c.renderSend(w, r, s, http.StatusUnprocessableEntity, d)
		return
	}
	res, err := c.svc.Notify(r.Context(), n, rcpt, opts...)
	if err != nil {
		if !errors.Is(err, cloche.ErrInvalid) {
			c.serverError(w, r, s, "send the notification", err)
			return
		}
		c.fieldErrors(d, err)
		c.renderSend(w, r, s, http.StatusUnprocessableEntity, d)
		return
	}
	c.logger.InfoContext(r.Context(), "console: notify", "who", s.Who, "event_id", res.EventID, "status", res.Status)
	lines := []string{resultLine(res, n.DueAt, loc)}
	kind := "ok"
	if report := sentences(res.Report().Lines()); len(report) > 0 {
		kind = "warn"
		lines = append(lines, report...)
	}
	if len(res.Replaced) > 0 {
		lines = append(lines, fmt.Sprintf("It replaces pending event(s) %s of the same context and type.", joinIDs(res.Replaced)))
	}
	c.setFlash(w, r, kind, lines...)
	http.Redirect(w, r, fmt.Sprintf("%s/events/%d", c.prefix, res.EventID), http.StatusSeeOther)
}

// sentences makes report lines into sentences: a capital, a full stop.
func sentences(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.ToUpper(l[:1]) + l[1:] + "."
	}
	return out
}

// resultLine says what Notify did.
func resultLine(res *cloche.Result, due *time.Time, loc *time.Location) string {
	switch res.Status {
	case cloche.EventPublished:
		n := res.Reached[res.Channel]
		unit := map[bool]string{true: "user", false: "users"}[n == 1]
		if res.Channel == cloche.ChannelEmail {
			unit = map[bool]string{true: "address", false: "addresses"}[n == 1]
		}
		return fmt.Sprintf("Event %d published on %s: %d %s reached.", res.EventID, channelLabel(res.Channel), n, unit)
	case cloche.EventPending:
		return fmt.Sprintf("Event %d scheduled for %s on %s.", res.EventID, due.In(loc).Format("2006-01-02 15:04"), channelLabel(res.Channel))
	}
	return fmt.Sprintf("Event %d is %s.", res.EventID, res.Status)
}

// fieldErrors puts each field error of err next to its form field; the
// others go above the form.
func (c *Console) fieldErrors(d *sendData, err error) {
	for _, fe := range cloche.FieldErrors(err) {
		field := formField(fe.Field)
		msg := problemWords(fe)
		if fe.Field == "key" && strings.HasPrefix(fe.Problem, "unknown notification type") {
			msg += " (create it on the Types page)"
		}
		if field == "" {
			d.Other = append(d.Other, fieldLabel(fe.Field)+": "+msg)
			continue
		}
		if _, taken := d.Errors[field]; !taken {
			d.Errors[field] = msg
		}
	}
	if err != nil && len(d.Errors) == 0 && len(d.Other) == 0 {
		d.Other = append(d.Other, inWords(err))
	}
}

// formField names the send form's field that sets an API field.
func formField(apiField string) string {
	name, _, _ := strings.Cut(apiField, "[")
	switch name {
	case "key", "title", "body", "context", "check_url", "until":
		return name
	case "recipients":
		return "recipients"
	case "group_names":
		return "groups"
	case "user_ids":
		return "user_ids"
	case "company_id":
		return "company_id"
	case "follower_user_id":
		return "follower_of"
	case "account_type":
		return "account_type"
	case "force_channel":
		return "channel"
	case "due_datetime":
		return "due"
	}
	return ""
}

// localLayouts are what a datetime-local input sends, and what an operator
// may type by hand.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// parseLocal reads a datetime in loc; empty is nil.
func parseLocal(s string, loc *time.Location) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, ok := parseLocalForms(s, loc)
	if !ok {
		return nil, fmt.Errorf("%q is not a date and time (YYYY-MM-DD HH:MM)", s)
	}
	if err := dispatch.CheckDatetimeRange(s, t); err != nil {
		return nil, err
	}
	return &t, nil
}

func parseLocalForms(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// splitList reads "a, b c" as [a b c].
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}
