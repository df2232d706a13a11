package email

import (
	"context"
	"errors"
	"fmt"

	"github.com/wneessen/go-mail"

	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
)

// eventContent is what the e-mails of one event share.
type eventContent struct {
	content     Content
	attachments []store.Attachment
	err         error    // the event cannot be sent (errEventGone)
	msg         *Message // a digest's message, rendered when it was queued
}

type renderKey struct {
	event int64
	key   string
}

// Name implements outbound.Channel: e-mail deliveries.
func (m *Mailer) Name() string { return store.OutboundEmail }

// Ready implements outbound.Channel: a mail server is configured.
func (m *Mailer) Ready() bool { return m.sender != nil }

// WarnNotReady implements outbound.NotReadyWarner.
func (m *Mailer) WarnNotReady(ctx context.Context) { m.WarnUnconfigured(ctx) }

// Begin implements outbound.Channel: a job renders each event once and
// sends over the pool of connections, closed once no job has used them
// for the idle time.
func (m *Mailer) Begin(ctx context.Context) outbound.Job {
	m.sender.begin()
	return &builder{m: m, events: map[int64]*eventContent{}, rendered: map[renderKey]*Message{}}
}

// End implements outbound.Job.
func (b *builder) End() { b.m.sender.end() }

// Send implements outbound.Job.
func (b *builder) Send(ctx context.Context, batch *outbound.Batch) ([]outbound.Outcome, error) {
	results, err := b.m.sendBatch(ctx, b, batch)
	if err != nil {
		return nil, err
	}
	out := make([]outbound.Outcome, len(results))
	for i, r := range results {
		o := outbound.Outcome{Result: outbound.Permanent, Code: r.code, Message: r.message, Down: r.down}
		switch {
		case r.notTried:
			o.Result = outbound.NotTried
		case r.sent:
			o.Result = outbound.Sent
		case r.temp:
			o.Result = outbound.Temporary
		}
		out[i] = o
	}
	return out, nil
}

// builder renders the messages of a job's batches; an event is read and
// a rendering made once per job.
type builder struct {
	m        *Mailer
	events   map[int64]*eventContent
	rendered map[renderKey]*Message
}

// sendBatch renders a claim's messages, then builds and sends them over
// the pool. A delivery that cannot have a message (its address is
// invalid, its event is gone, a template fails) gets a failed result.
func (m *Mailer) sendBatch(ctx context.Context, b *builder, c *outbound.Batch) ([]result, error) {
	type prepared struct {
		msg *Message
		ev  *eventContent
	}
	preps := make([]prepared, len(c.Deliveries))
	failed := make([]*result, len(c.Deliveries))
	for i := range c.Deliveries {
		d := &c.Deliveries[i]
		ev, ok := b.events[d.EventID]
		if !ok {
			var err error
			if id := d.DigestID(); id != 0 {
				ev, err = m.loadDigest(ctx, id)
			} else {
				ev, err = m.loadEvent(ctx, d.EventID)
			}
			if err != nil {
				return nil, err
			}
			b.events[d.EventID] = ev
		}
		if ev.err != nil {
			failed[i] = &result{message: ev.err.Error()}
			continue
		}
		if ev.msg != nil {
			preps[i] = prepared{msg: ev.msg, ev: ev}
			continue
		}
		rc := Recipient{Name: d.Name, Address: d.Address, Locale: d.Locale, Reason: d.Reason}
		key := renderKey{event: d.EventID, key: m.tmpl.CacheKey(&ev.content, rc)}
		msg, ok := b.rendered[key]
		if !ok {
			var err error
			if msg, err = m.tmpl.Render(&ev.content, rc); err != nil {
				// A template that fails is the configuration's fault:
				// retry, so that the operator can fix it meanwhile.
				failed[i] = &result{temp: true, message: err.Error()}
				continue
			}
			b.rendered[key] = msg
		}
		preps[i] = prepared{msg: msg, ev: ev}
	}
	results := m.sender.sendAll(ctx, len(c.Deliveries), c.MayStart, func(i int) (*mail.Msg, *result) {
		if failed[i] != nil {
			return nil, failed[i]
		}
		x, err := m.message(&c.Deliveries[i], preps[i].msg, preps[i].ev)
		if err != nil {
			return nil, &result{message: err.Error()}
		}
		return x, nil
	})
	return results, nil
}

// loadEvent reads what the e-mails of an event need.
func (m *Mailer) loadEvent(ctx context.Context, id int64) (*eventContent, error) {
	ev, err := m.st.EventGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return &eventContent{err: errEventGone}, nil
	} else if err != nil {
		return nil, fmt.Errorf("event %d: %w", id, err)
	}
	status := store.StatusNeutral
	if t, err := m.st.TypeGet(ctx, ev.Key); err == nil {
		status = t.StatusType
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("event %d: type %s: %w", id, ev.Key, err)
	}
	atts, err := m.st.AttachmentList(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("event %d: attachments: %w", id, err)
	}
	return &eventContent{
		content: Content{EventID: ev.ID, Key: ev.Key, Title: ev.Title, Body: ev.Body, StatusType: status,
			ContextType: ev.ContextType, ContextID: ev.ContextID},
		attachments: atts,
	}, nil
}
