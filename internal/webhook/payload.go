package webhook

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/email"
	"github.com/cloche/cloche/internal/store"
)

// Event is the data of a standard webhook: the notification event.
type Event struct {
	EventID     int64            `json:"event_id"`
	Key         string           `json:"key"`
	Category    string           `json:"category"`
	StatusType  store.StatusType `json:"status_type"`
	Title       string           `json:"title"`
	Body        string           `json:"body"` // as given (HTML or text)
	Text        string           `json:"text"` // the body as plain text
	Link        string           `json:"link,omitempty"`
	ContextType string           `json:"context_type,omitempty"`
	ContextID   string           `json:"context_id,omitempty"`
	Recipients  store.Recipients `json:"recipients"`
	CreatedAt   time.Time        `json:"created_at"`
	PublishedAt *time.Time       `json:"published_at,omitempty"`
	Outlet      string           `json:"outlet"`
}

// envelope is a standard webhook's body: the Standard Webhooks shape.
type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      *Event    `json:"data"`
}

// Types of standard webhooks.
const (
	TypePublished = "notification.published"
	TypeTest      = "cloche.test"
)

// content is what every webhook of one event shares.
type content struct {
	ev  Event
	err error // the event is gone
}

func newContent(ev *store.Event, status store.StatusType) *content {
	_, text := email.RenderBody(ev.Body)
	return &content{ev: Event{
		EventID: ev.ID, Key: ev.Key, Category: store.Category(ev.Key), StatusType: status, Title: ev.Title,
		Body: ev.Body, Text: strings.TrimSpace(text), Link: firstLink(ev.Body), ContextType: ev.ContextType,
		ContextID: ev.ContextID, Recipients: ev.Recipients, CreatedAt: ev.CreatedAt, PublishedAt: ev.PublishedAt,
	}}
}

var linkPattern = regexp.MustCompile(`(?i)href\s*=\s*["']?(https?://[^"'\s>]+)|(https?://[^\s<>"']+)`)

// firstLink is the first http(s) link of a body, or "".
func firstLink(body string) string {
	m := linkPattern.FindStringSubmatch(body)
	switch {
	case m == nil:
		return ""
	case m[1] != "":
		return m[1]
	}
	return m[2]
}

// body renders what an outlet receives of c.
func body(o *store.WebhookOutlet, typ string, at time.Time, c *content) ([]byte, error) {
	ev := c.ev
	ev.Outlet = o.Name
	if o.Format == store.WebhookChat {
		var b strings.Builder
		b.WriteString("*")
		b.WriteString(ev.Title)
		b.WriteString("*")
		if ev.Text != "" {
			b.WriteString("\n")
			b.WriteString(ev.Text)
		}
		if ev.Link != "" && !strings.Contains(ev.Text, ev.Link) {
			b.WriteString("\n")
			b.WriteString(ev.Link)
		}
		return json.Marshal(map[string]string{"text": b.String()})
	}
	return json.Marshal(envelope{Type: typ, Timestamp: at.UTC(), Data: &ev})
}
