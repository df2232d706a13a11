package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Add checks in and stores the outlet; a name taken is ErrConflict.
func (h *Hooks) Add(ctx context.Context, in Input) (*store.WebhookOutlet, error) {
	o, err := in.Outlet()
	if err != nil {
		return nil, err
	}
	if err := h.st.WebhookInsert(ctx, o); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &store.Error{Kind: store.ErrConflict, Msg: fmt.Sprintf("a webhook is named %q already", o.Name), Err: err}
		}
		return nil, err
	}
	h.forget()
	return o, nil
}

// Remove deletes an outlet; its deliveries not yet sent fail as gone.
func (h *Hooks) Remove(ctx context.Context, id int64) error {
	if err := h.st.WebhookDelete(ctx, id); err != nil {
		return err
	}
	h.forget()
	return nil
}

// Pause stops an outlet from receiving anything, by hand.
func (h *Hooks) Pause(ctx context.Context, id int64, who string) (*store.WebhookOutlet, error) {
	now := h.now()
	if err := h.st.WebhookSetPaused(ctx, id, &now, "paused by "+who); err != nil {
		return nil, err
	}
	h.forget()
	return h.st.WebhookGet(ctx, id)
}

// Resume makes a paused outlet receive again, its failures forgotten.
func (h *Hooks) Resume(ctx context.Context, id int64) (*store.WebhookOutlet, error) {
	if err := h.st.WebhookSetPaused(ctx, id, nil, ""); err != nil {
		return nil, err
	}
	h.forget()
	return h.st.WebhookGet(ctx, id)
}

// TestResult is what an outlet answered to a test webhook.
type TestResult struct {
	Outlet    string `json:"outlet"`
	URL       string `json:"url"`
	Format    string `json:"format"`
	MessageID string `json:"message_id,omitempty"` // webhook-id, standard format
	Status    int    `json:"status,omitempty"`     // the HTTP status, 0 when there was no answer
	Response  string `json:"response,omitempty"`   // the start of the answer
	Error     string `json:"error,omitempty"`      // why it did not reach the outlet
	OK        bool   `json:"ok"`                   // a 2xx answer
}

// Test posts a test webhook (type cloche.test) to an outlet, paused or
// not, and returns its answer.
func (h *Hooks) Test(ctx context.Context, id int64) (*TestResult, error) {
	o, err := h.st.WebhookGet(ctx, id)
	if err != nil {
		return nil, err
	}
	key, err := secretKey(o.Secret)
	if err != nil {
		return nil, err
	}
	now := h.now().UTC()
	c := &content{ev: Event{Key: "cloche:test", Category: "cloche", StatusType: store.StatusNeutral,
		Title: "Cloche test webhook", Body: "This webhook checks that Cloche reaches this outlet.",
		Text: "This webhook checks that Cloche reaches this outlet.", CreatedAt: now, PublishedAt: &now}}
	b, err := body(o, TypeTest, now, c)
	if err != nil {
		return nil, err
	}
	p := &prepared{outlet: o, sign: signer{key: key}, body: b, id: fmt.Sprintf("msg_cloche_test_%d", time.Now().UnixNano())}
	res := &TestResult{Outlet: o.Name, URL: o.URL, Format: o.Format}
	if o.Format == store.WebhookStandard {
		res.MessageID = p.id
	}
	status, answer, _, err := h.do(ctx, p)
	if err != nil {
		res.Error = strings.TrimSpace(err.Error())
		return res, nil
	}
	res.Status, res.Response, res.OK = status, answer, status >= 200 && status < 300
	return res, nil
}

// Paused is how many outlets this process paused since it started.
func (h *Hooks) Paused() int64 { return h.paused.Load() }
