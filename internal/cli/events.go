package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cloche/cloche"
)

// eventsCmd groups the commands about notification events.
type eventsCmd struct {
	List   eventsListCmd   `cmd:"" help:"List events, newest first."`
	Show   eventsShowCmd   `cmd:"" help:"Show every field of one event."`
	Cancel eventsCancelCmd `cmd:"" help:"Cancel a pending event by id, or the pending events about a context."`
}

type eventsListCmd struct {
	Status  *cloche.EventStatus `enum:"${event_statuses}" placeholder:"STATUS" help:"Only events in this status (${enum})."`
	Context string              `placeholder:"TYPE:ID" help:"Only events about this object, e.g. invoice:42."`
	Key     string              `short:"k" placeholder:"KEY" help:"Only events of this notification type."`
	Limit   int                 `default:"50" help:"At most this many events (up to 1000)."`
	Before  int64               `placeholder:"ID" help:"Only events older than this id (the next page)."`
}

func (c *eventsListCmd) Run(rt *runtime) error {
	ctxFilter, err := parseContextFlag(c.Context)
	if err != nil {
		return err
	}
	f := cloche.EventFilter{Context: ctxFilter, Key: c.Key, Limit: c.Limit, BeforeID: c.Before}
	if c.Status != nil {
		f.Status = *c.Status
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	evs, err := svc.Events(rt.ctx, f)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(nonNil(evs))
	}
	if len(evs) == 0 {
		rt.printf("no events")
		return nil
	}
	loc := svc.Location()
	t := rt.table("ID", "STATUS", "KEY", "CHANNEL", "DUE", "CONTEXT", "REACHED", "TITLE")
	for _, ev := range evs {
		t.row(ev.ID, ev.Status, ev.Key, ev.Channel, formatTime(ev.DueAt, loc), orDash(eventContext(&ev)),
			orDash(countsString(ev.Counts)), truncate(ev.Title, 50))
	}
	return t.flush()
}

type eventsShowCmd struct {
	ID int64 `arg:"" help:"Event id."`
}

func (c *eventsShowCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	ev, err := svc.Event(rt.ctx, c.ID)
	if err != nil {
		return err
	}
	withheld, err := svc.EventWithheld(rt.ctx, ev)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		// The API's event view: the event, then who got nothing on a
		// channel because of their settings.
		return rt.printJSON(struct {
			*cloche.Event
			Muted []cloche.PreferenceSkip `json:"muted,omitempty"`
		}{ev, withheld})
	}
	loc := svc.Location()
	channel := string(ev.Channel)
	if ev.ForceChannel != "" {
		channel += " (forced)"
	}
	status := string(ev.Status)
	if ev.StatusReason != "" {
		status += ": " + ev.StatusReason
	}
	if err := rt.fields(
		[2]string{"id", fmt.Sprint(ev.ID)},
		[2]string{"key", ev.Key},
		[2]string{"title", ev.Title},
		[2]string{"channel", channel},
		[2]string{"status", status},
		[2]string{"recipients", orDash(recipientsString(ev.Recipients))},
		[2]string{"reached", orDash(countsString(ev.Counts))},
		[2]string{"context", orDash(eventContext(ev))},
		[2]string{"check url", orDash(ev.CheckURL)},
		[2]string{"url", orDash(ev.URL)},
		[2]string{"actions", orDash(actionsString(ev.Actions))},
		[2]string{"due", formatTime(ev.DueAt, loc)},
		[2]string{"until", formatTime(ev.Until, loc)},
		[2]string{"created", formatTime(&ev.CreatedAt, loc)},
		[2]string{"updated", formatTime(&ev.UpdatedAt, loc)},
		[2]string{"published", formatTime(ev.PublishedAt, loc)},
	); err != nil {
		return err
	}
	if lines := ev.Report.Lines(); len(lines) > 0 {
		rt.printf("report:\n%s", indent(strings.Join(lines, "\n"), "  "))
	}
	if len(withheld) > 0 {
		lines := make([]string, len(withheld))
		for i, w := range withheld {
			lines[i] = fmt.Sprintf("%s on %s: %s", w.UserID, w.Channel, withheldReason(w.Reason))
			if w.NotBefore != nil {
				lines[i] += " until " + formatTime(w.NotBefore, loc)
			}
		}
		rt.printf("held back by their settings:\n%s", indent(strings.Join(lines, "\n"), "  "))
	}
	if ev.Body != "" {
		rt.printf("body:\n%s", indent(ev.Body, "  "))
	}
	return nil
}

type eventsCancelCmd struct {
	ID      int64  `arg:"" optional:"" help:"Id of the pending event to cancel."`
	Context string `placeholder:"TYPE:ID" help:"Cancel every pending event about this object instead, e.g. invoice:42."`
	Key     string `short:"k" placeholder:"KEY" help:"With --context: only the events of this notification type."`
}

func (c *eventsCancelCmd) Run(rt *runtime) error {
	switch {
	case c.ID != 0 && c.Context != "":
		return usageErrorf("give an event id or --context, not both")
	case c.ID == 0 && c.Context == "":
		return usageErrorf("give the id of the event to cancel, or --context TYPE:ID")
	case c.Key != "" && c.Context == "":
		return usageErrorf("--key only applies with --context")
	}
	ctxFilter, err := parseContextFlag(c.Context)
	if err != nil {
		return err
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	if ctxFilter == nil {
		if err := svc.CancelEvent(rt.ctx, c.ID); err != nil {
			return err
		}
		if rt.globals.JSON {
			return rt.printJSON(cancelled{IDs: []int64{c.ID}})
		}
		rt.printf("event %d cancelled", c.ID)
		return nil
	}
	ids, err := svc.CancelEvents(rt.ctx, *ctxFilter, c.Key)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(cancelled{IDs: nonNil(ids)})
	}
	if len(ids) == 0 {
		rt.printf("no pending event about %s to cancel", ctxFilter)
		return nil
	}
	rt.printf("%s cancelled: %s", plural(len(ids), "event", "events"), joinIDs(ids))
	return nil
}

// cancelled is the JSON output of events cancel.
type cancelled struct {
	IDs []int64 `json:"cancelled"`
}

func eventContext(ev *cloche.Event) string {
	if ev.ContextType == "" && ev.ContextID == "" {
		return ""
	}
	return ev.ContextType + ":" + ev.ContextID
}

// recipientsString reads "groups manager, admin; users 1, 2; company 10;
// follower of 3".
func recipientsString(r cloche.Recipients) string {
	var parts []string
	if len(r.GroupNames) > 0 {
		parts = append(parts, "groups "+strings.Join(r.GroupNames, ", "))
	}
	if len(r.UserIDs) > 0 {
		parts = append(parts, "users "+strings.Join(r.UserIDs, ", "))
	}
	if r.CompanyID != "" {
		parts = append(parts, "company "+r.CompanyID)
	}
	if r.FollowerUserID != "" {
		parts = append(parts, "follower of "+r.FollowerUserID)
	}
	return strings.Join(parts, "; ")
}

// countsString reads "message 3" or "email 2, message 0", channels sorted.
func countsString(counts map[cloche.Channel]int) string {
	chans := make([]string, 0, len(counts))
	for ch := range counts {
		chans = append(chans, string(ch))
	}
	sort.Strings(chans)
	parts := make([]string, len(chans))
	for i, ch := range chans {
		parts[i] = fmt.Sprintf("%s %d", ch, counts[cloche.Channel(ch)])
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// actionsString is "Voir → https://…; Payer ⇢ callback https://…".
func actionsString(actions []cloche.Action) string {
	parts := make([]string, len(actions))
	for i, a := range actions {
		if a.Callback != "" {
			parts[i] = a.Label + " → callback " + a.Callback
		} else {
			parts[i] = a.Label + " → " + a.URL
		}
	}
	return strings.Join(parts, "; ")
}

// withheldReason says why a recipient got nothing on a channel.
func withheldReason(reason string) string {
	switch reason {
	case cloche.WithheldPreference:
		return "preference"
	case cloche.WithheldQuietHours:
		return "quiet hours pending"
	case cloche.WithheldUnread:
		return "e-mailed only if still unread"
	case cloche.WithheldDigest:
		return "held for a digest"
	}
	return reason
}
