package cloche

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/hostsign"
	"github.com/cloche/cloche/internal/store"
)

// Action is a button of a notification: a label and either a URL the
// person opens or a host Callback that Cloche POSTs to, signed.
type Action = store.Action

// ItemAction is an action as its recipient sees it (the callback's URL
// stays on the server).
type ItemAction = store.ItemAction

// ActionResult is what became of a callback action: OK when the host
// answered 2xx; Status is its HTTP status (0 when it could not be
// reached), Message what its JSON answer said in "message", if anything,
// and Reason why it failed.
type ActionResult struct {
	OK      bool   `json:"ok"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ActionCall is what an action's callback receives.
type ActionCall struct {
	Action       ActionRef  `json:"action"`
	UserID       string     `json:"user_id"`
	Notification *InboxItem `json:"notification"`
	Event        *Event     `json:"event"`
}

// ActionRef names the action pressed: its place in the event's actions and
// its label.
type ActionRef struct {
	Index int    `json:"index"`
	Label string `json:"label"`
}

// maxActionMessage bounds the message of a host's answer kept in an
// ActionResult, in characters.
const maxActionMessage = 200

// RunAction is what pressing action index (from 0) of one of a user's
// notifications does when the action has a callback: Cloche POSTs an
// ActionCall to it, signed (internal/hostsign), within check.timeout, and
// tells what the host answered. An action that opens a URL has nothing to
// run (a *FieldError on "action"); an action that does not exist is not
// found. A failed call is not an error: the result says why.
func (s *Service) RunAction(ctx context.Context, userID string, id int64, index int) (*ActionResult, error) {
	if err := store.CheckID("user_id", userID); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("notification %d of user %q", id, userID)
	it, err := s.store.NotificationGet(ctx, userID, id)
	if err != nil {
		return nil, wrap(what, err)
	}
	ev, err := s.store.EventGet(ctx, it.EventID)
	if err != nil {
		return nil, wrap(what, err)
	}
	if index < 0 || index >= len(ev.Actions) {
		return nil, store.Errorf(store.ErrNotFound, "%s has no action %d", what, index)
	}
	a := ev.Actions[index]
	if a.Callback == "" {
		return nil, store.Invalid("action", "action %d (%q) opens a URL; it has no callback to run", index, a.Label)
	}
	payload, err := json.Marshal(ActionCall{Action: ActionRef{Index: index, Label: a.Label}, UserID: userID, Notification: it, Event: ev})
	if err != nil {
		return nil, err
	}
	key, err := s.hostSigningKey(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Check.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Callback, bytes.NewReader(payload))
	if err != nil {
		return nil, store.Invalid("action", "action %d has a callback that cannot be called: %v", index, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cloche")
	hostsign.SignRequest(req, key, s.disp.Now(), payload)
	resp, err := s.hostClient().Do(req)
	if err != nil {
		s.logger.WarnContext(ctx, "action callback failed", "notification_id", id, "action", index, "err", err)
		return &ActionResult{Reason: "the host could not be reached"}, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res := &ActionResult{Status: resp.StatusCode, OK: resp.StatusCode >= 200 && resp.StatusCode < 300}
	var answer struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) == nil {
		res.Message = clip(strings.TrimSpace(answer.Message), maxActionMessage)
	}
	if !res.OK {
		res.Reason = fmt.Sprintf("the host answered %d", resp.StatusCode)
		s.logger.WarnContext(ctx, "action callback refused", "notification_id", id, "action", index, "status", resp.StatusCode)
	}
	return res, nil
}

// hostClient is the client of calls to the host; it follows no redirect,
// so that a signed body goes only where the event said.
func (s *Service) hostClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// hostSigningKey is the key that signs calls to the host: check.signing_secret,
// else the user-token secret.
func (s *Service) hostSigningKey(ctx context.Context) ([]byte, error) {
	if k := s.cfg.Check.SigningSecret; k != "" {
		return []byte(k), nil
	}
	return s.tokenSecret(ctx)
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
