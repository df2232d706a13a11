package store

import (
	"encoding/json"
	"time"
)

// Limits on a notification's links.
const (
	// MaxURLLen bounds url and each action's url or callback, in bytes.
	MaxURLLen = 2048
	// MaxActionLabelLen bounds an action's label, in characters.
	MaxActionLabelLen = 100
	// MaxActions is how many actions a notification may carry.
	MaxActions = 3
)

// Action is a button of a notification: a Label and either a URL the
// person opens, or a Callback, a URL of the host that Cloche POSTs to,
// signed, when the person presses the button.
type Action struct {
	Label    string `json:"label"`
	URL      string `json:"url,omitempty"`
	Callback string `json:"callback,omitempty"`
}

// ItemAction is an action as its recipient sees it: the host's callback
// URL stays on the server; Callback says there is one to ask Cloche to call.
type ItemAction struct {
	Label    string `json:"label"`
	URL      string `json:"url,omitempty"`
	Callback bool   `json:"callback,omitempty"`
}

// ItemActions is what a recipient sees of actions (nil when there are none).
func ItemActions(actions []Action) []ItemAction {
	if len(actions) == 0 {
		return nil
	}
	out := make([]ItemAction, len(actions))
	for i, a := range actions {
		out[i] = ItemAction{Label: a.Label, URL: a.URL, Callback: a.Callback != ""}
	}
	return out
}

// MarshalActions keeps actions as JSON text ("" when there are none); both
// backends share it.
func MarshalActions(actions []Action) string {
	if len(actions) == 0 {
		return ""
	}
	b, _ := json.Marshal(actions)
	return string(b)
}

// UnmarshalActions is the inverse of MarshalActions.
func UnmarshalActions(s string) []Action {
	if s == "" {
		return nil
	}
	var out []Action
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

// NotificationSetArchivedParams archives one of a user's notifications
// (ArchivedAt set) or brings it back to the inbox (nil).
type NotificationSetArchivedParams struct {
	UserID     string
	ID         int64
	ArchivedAt *time.Time
	At         time.Time // when the change is made (now when zero), for the change log
}
