package cloche

import (
	"context"
	"fmt"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/webhook"
)

// WebhookOutlet is an outgoing webhook: a URL, a format (standard or
// chat), a secret, the types and optionally the recipients it receives
// (README, "Webhooks").
type WebhookOutlet = store.WebhookOutlet

// WebhookRecipients narrows an outlet to the events sent to one of them.
type WebhookRecipients = store.WebhookRecipients

// WebhookInput is an outlet to add: an empty Format is standard, an empty
// Secret a new one.
type WebhookInput = webhook.Input

// WebhookTestResult is what an outlet answered to a test webhook.
type WebhookTestResult = webhook.TestResult

// Webhook formats.
const (
	WebhookStandard = store.WebhookStandard
	WebhookChat     = store.WebhookChat
)

// AddWebhook adds an outlet: every event published from now on whose type
// (and recipients, when given) match goes to it. Invalid input names its
// field; a name taken is ErrConflict.
func (s *Service) AddWebhook(ctx context.Context, in WebhookInput) (*WebhookOutlet, error) {
	o, err := s.webhooks.Add(ctx, in)
	return o, wrap("add webhook", err)
}

// Webhooks lists the outlets.
func (s *Service) Webhooks(ctx context.Context) ([]WebhookOutlet, error) {
	os, err := s.store.WebhookList(ctx)
	return os, wrap("list webhooks", err)
}

// Webhook returns one outlet.
func (s *Service) Webhook(ctx context.Context, id int64) (*WebhookOutlet, error) {
	o, err := s.store.WebhookGet(ctx, id)
	return o, wrap(fmt.Sprintf("webhook %d", id), err)
}

// webhookNotFound names the outlet a name did not find.
func webhookNotFound(name string) error {
	return &store.Error{Kind: ErrNotFound, Msg: fmt.Sprintf("no webhook is named %q", name)}
}

// WebhookByName returns the outlet named name.
func (s *Service) WebhookByName(ctx context.Context, name string) (*WebhookOutlet, error) {
	os, err := s.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	for i := range os {
		if os[i].Name == name {
			return &os[i], nil
		}
	}
	return nil, webhookNotFound(name)
}

// RemoveWebhook removes an outlet; what it was still to receive fails as
// gone.
func (s *Service) RemoveWebhook(ctx context.Context, id int64) error {
	return wrap(fmt.Sprintf("webhook %d", id), s.webhooks.Remove(ctx, id))
}

// PauseWebhook stops an outlet from receiving anything until resumed; who
// says by whom, for its pause reason.
func (s *Service) PauseWebhook(ctx context.Context, id int64, who string) (*WebhookOutlet, error) {
	o, err := s.webhooks.Pause(ctx, id, who)
	return o, wrap(fmt.Sprintf("webhook %d", id), err)
}

// ResumeWebhook makes a paused outlet receive again, its failures
// forgotten. Deliveries that failed meanwhile are retried with
// RetryFailedDeliveriesOf("webhook", …) or one by one.
func (s *Service) ResumeWebhook(ctx context.Context, id int64) (*WebhookOutlet, error) {
	o, err := s.webhooks.Resume(ctx, id)
	return o, wrap(fmt.Sprintf("webhook %d", id), err)
}

// TestWebhook posts a test webhook (type cloche.test) to an outlet and
// returns its answer; an answer other than 2xx is not an error (see OK).
func (s *Service) TestWebhook(ctx context.Context, id int64) (*WebhookTestResult, error) {
	res, err := s.webhooks.Test(ctx, id)
	return res, wrap(fmt.Sprintf("webhook %d", id), err)
}

// WebhooksPaused is how many outlets this process paused because every
// attempt failed for the pause window.
func (s *Service) WebhooksPaused() int64 { return s.webhooks.Paused() }
