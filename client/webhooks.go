package client

import (
	"context"
	"time"
)

// WebhookRecipients narrows an outlet to the events sent to one of these
// routes; empty: every event of its types.
type WebhookRecipients struct {
	CompanyIDs []string `json:"company_ids,omitempty"`
	UserIDs    []string `json:"user_ids,omitempty"`
	GroupNames []string `json:"group_names,omitempty"`
}

// WebhookInput is an outlet to add. Format is "standard" (the default:
// JSON signed per the Standard Webhooks specification) or "chat"; an empty
// Secret is a new one. Types are patterns: a key, a category ("task:*") or
// "*".
type WebhookInput struct {
	Name       string            `json:"name"`
	URL        string            `json:"url"`
	Format     string            `json:"format,omitempty"`
	Secret     string            `json:"secret,omitempty"`
	Types      []string          `json:"types"`
	Recipients WebhookRecipients `json:"recipients"`
}

// WebhookOutlet is an outgoing webhook.
type WebhookOutlet struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Format       string            `json:"format"`
	Secret       string            `json:"secret"`
	Types        []string          `json:"types"`
	Recipients   WebhookRecipients `json:"recipients"`
	FailingSince *time.Time        `json:"failing_since,omitempty"`
	LastError    string            `json:"last_error,omitempty"`
	PausedAt     *time.Time        `json:"paused_at,omitempty"`
	PauseReason  string            `json:"pause_reason,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// WebhookTestResult is what an outlet answered to a test webhook.
type WebhookTestResult struct {
	Outlet    string `json:"outlet"`
	URL       string `json:"url"`
	Format    string `json:"format"`
	MessageID string `json:"message_id,omitempty"`
	Status    int    `json:"status,omitempty"`
	Response  string `json:"response,omitempty"`
	Error     string `json:"error,omitempty"`
	OK        bool   `json:"ok"`
}

// AddWebhook adds an outlet (POST /api/v1/webhooks).
func (c *Client) AddWebhook(ctx context.Context, in WebhookInput) (*WebhookOutlet, error) {
	var o WebhookOutlet
	_, err := c.call(ctx, "POST", "/api/v1/webhooks", nil, in, &o, nil)
	return &o, err
}

// Webhooks lists the outlets.
func (c *Client) Webhooks(ctx context.Context) ([]WebhookOutlet, error) {
	var p Page[WebhookOutlet]
	_, err := c.call(ctx, "GET", "/api/v1/webhooks", nil, nil, &p, nil)
	return p.Items, err
}

// Webhook returns one outlet.
func (c *Client) Webhook(ctx context.Context, id int64) (*WebhookOutlet, error) {
	var o WebhookOutlet
	_, err := c.call(ctx, "GET", "/api/v1/webhooks/"+id64(id), nil, nil, &o, nil)
	return &o, err
}

// RemoveWebhook removes an outlet.
func (c *Client) RemoveWebhook(ctx context.Context, id int64) error {
	_, err := c.call(ctx, "DELETE", "/api/v1/webhooks/"+id64(id), nil, nil, nil, nil)
	return err
}

// PauseWebhook pauses an outlet.
func (c *Client) PauseWebhook(ctx context.Context, id int64) (*WebhookOutlet, error) {
	var o WebhookOutlet
	_, err := c.call(ctx, "POST", "/api/v1/webhooks/"+id64(id)+"/pause", nil, nil, &o, nil)
	return &o, err
}

// ResumeWebhook resumes a paused outlet.
func (c *Client) ResumeWebhook(ctx context.Context, id int64) (*WebhookOutlet, error) {
	var o WebhookOutlet
	_, err := c.call(ctx, "POST", "/api/v1/webhooks/"+id64(id)+"/resume", nil, nil, &o, nil)
	return &o, err
}

// TestWebhook posts a test webhook to an outlet and returns its answer.
func (c *Client) TestWebhook(ctx context.Context, id int64) (*WebhookTestResult, error) {
	var r WebhookTestResult
	_, err := c.call(ctx, "POST", "/api/v1/webhooks/"+id64(id)+"/test", nil, nil, &r, nil)
	return &r, err
}
