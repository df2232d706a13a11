package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Webhook outlet formats.
const (
	// WebhookStandard is a JSON event signed per the Standard Webhooks
	// specification (webhook-id, webhook-timestamp, webhook-signature).
	WebhookStandard = "standard"
	// WebhookChat is {"text": …} for Slack- and Mattermost-style incoming
	// webhooks.
	WebhookChat = "chat"
)

// WebhookOutlet is an operator's outgoing webhook: where the events go,
// in which format, signed with which secret, and which events.
type WebhookOutlet struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	Format string `json:"format"`
	// Secret signs the standard format: "whsec_" and the base64 of the
	// HMAC-SHA256 key.
	Secret string `json:"secret"`
	// Types are the patterns of the types it receives: a key
	// ("message:system"), a category ("task:*"), or every type ("*").
	Types []string `json:"types"`
	// Recipients, when not empty, narrow it to the events sent to one of
	// them (a company, a user, a group).
	Recipients WebhookRecipients `json:"recipients"`
	// FailingSince is when the run of failed attempts began (nil: the
	// last attempt succeeded); LastError the last failure.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	// PausedAt is when it was paused (nil: it is active); PauseReason why.
	PausedAt    *time.Time `json:"paused_at,omitempty"`
	PauseReason string     `json:"pause_reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// WebhookRecipients narrows an outlet to the events sent to one of these
// routes (store.Recipients); empty: every event of its types.
type WebhookRecipients struct {
	CompanyIDs []string `json:"company_ids,omitempty"`
	UserIDs    []string `json:"user_ids,omitempty"`
	GroupNames []string `json:"group_names,omitempty"`
}

// Empty reports whether r narrows nothing.
func (r WebhookRecipients) Empty() bool {
	return len(r.CompanyIDs) == 0 && len(r.UserIDs) == 0 && len(r.GroupNames) == 0
}

// WebhookAttemptsParams records what the attempts to outlets became: OK
// outlets had a delivery accepted; Failed ones (not in OK) only failures,
// the last being Errors[id]. A failed outlet whose run of failures began
// Window or more before At is paused.
type WebhookAttemptsParams struct {
	At     time.Time
	Window time.Duration
	OK     []int64
	Failed []int64
	Errors map[int64]string
}

// WebhookQueries keep the webhook outlets.
type WebhookQueries interface {
	// WebhookInsert stores o and sets its ID and times; ErrConflict when
	// its name is taken.
	WebhookInsert(ctx context.Context, o *WebhookOutlet) error
	// WebhookList returns every outlet, by id.
	WebhookList(ctx context.Context) ([]WebhookOutlet, error)
	// WebhookGet returns one outlet (ErrNotFound).
	WebhookGet(ctx context.Context, id int64) (*WebhookOutlet, error)
	// WebhookDelete removes an outlet (ErrNotFound); its deliveries stay,
	// and fail as gone.
	WebhookDelete(ctx context.Context, id int64) error
	// WebhookSetPaused pauses an outlet (at, with reason) or, with at nil,
	// resumes it and forgets its failures (ErrNotFound).
	WebhookSetPaused(ctx context.Context, id int64, at *time.Time, reason string) error
	// WebhookAttempts records the outcomes of attempts and returns the
	// ids of the outlets it paused.
	WebhookAttempts(ctx context.Context, p *WebhookAttemptsParams) ([]int64, error)
}

// MarshalWebhookFilters is how both backends keep an outlet's types and
// recipients: JSON text.
func MarshalWebhookFilters(o *WebhookOutlet) (types, recipients string) {
	t, _ := json.Marshal(nonNilStrings(o.Types))
	r, _ := json.Marshal(o.Recipients)
	return string(t), string(r)
}

// UnmarshalWebhookFilters is the inverse of MarshalWebhookFilters.
func UnmarshalWebhookFilters(types, recipients string, o *WebhookOutlet) error {
	if err := json.Unmarshal([]byte(types), &o.Types); err != nil {
		return fmt.Errorf("webhook %d types: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(recipients), &o.Recipients); err != nil {
		return fmt.Errorf("webhook %d recipients: %w", o.ID, err)
	}
	o.Types = nonNilStrings(o.Types)
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// PauseReason begins the reason of an outlet paused for failing for
// window; its last error follows.
func PauseReason(window time.Duration) string {
	return fmt.Sprintf("every attempt failed for %s or more; the last: ", window)
}
