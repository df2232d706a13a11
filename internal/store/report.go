package store

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Why a recipient got nothing (Unreachable.Reason).
const (
	// ReasonInactive: the user or company is marked inactive.
	ReasonInactive = "inactive"
	// ReasonNoActiveMember: the company or group has no active member
	// (and, on e-mail, the company no address of its own).
	ReasonNoActiveMember = "no_active_member"
	// ReasonNoEmail: on the e-mail channel, an active user reached has no
	// address.
	ReasonNoEmail = "no_email"
)

// MaxUnreachable bounds the list of unreachable recipients of a report;
// SendReport.UnreachableMore counts the rest.
const MaxUnreachable = 100

// Unreachable is a recipient of a send who got nothing, and why.
type Unreachable struct {
	Kind   string `json:"kind"` // "user", "company", "group" or "account_type"
	ID     string `json:"id"`   // its id (a group's name)
	Reason string `json:"reason"`
}

// SendReport says what of a send reached nobody: names the directory does
// not hold, and recipients it holds who could not be reached. It is empty
// when everyone named was reached.
type SendReport struct {
	UnknownUserIDs    []string      `json:"unknown_user_ids,omitempty"`
	UnknownCompanyID  string        `json:"unknown_company_id,omitempty"`
	UnknownGroupNames []string      `json:"unknown_group_names,omitempty"`
	Unreachable       []Unreachable `json:"unreachable,omitempty"`
	// UnreachableMore counts the unreachable recipients left out of
	// Unreachable, beyond MaxUnreachable.
	UnreachableMore int `json:"unreachable_more,omitempty"`
}

// Empty reports whether r says nothing.
func (r *SendReport) Empty() bool {
	return r == nil || len(r.UnknownUserIDs) == 0 && r.UnknownCompanyID == "" && len(r.UnknownGroupNames) == 0 &&
		len(r.Unreachable) == 0 && r.UnreachableMore == 0
}

// AddUnreachable records u, or counts it past MaxUnreachable.
func (r *SendReport) AddUnreachable(u Unreachable) {
	if len(r.Unreachable) < MaxUnreachable {
		r.Unreachable = append(r.Unreachable, u)
		return
	}
	r.UnreachableMore++
}

// MarshalReport is how a report is stored: JSON, "" for none.
func MarshalReport(r *SendReport) string {
	if r.Empty() {
		return ""
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// UnmarshalReport is the inverse of MarshalReport.
func UnmarshalReport(s string) *SendReport {
	if s == "" {
		return nil
	}
	r := &SendReport{}
	if json.Unmarshal([]byte(s), r) != nil || r.Empty() {
		return nil
	}
	return r
}

// Lines says the report in a few sentences, one per kind of problem, for
// the command line and the console: "unknown group names (no member):
// ghosts", "unreachable: user 4 (inactive), group retired (no active
// member)".
func (r *SendReport) Lines() []string {
	if r.Empty() {
		return nil
	}
	var out []string
	if len(r.UnknownUserIDs) > 0 {
		out = append(out, "unknown user ids (not in the directory): "+strings.Join(r.UnknownUserIDs, ", "))
	}
	if r.UnknownCompanyID != "" {
		out = append(out, "unknown company "+r.UnknownCompanyID+" (not in the directory)")
	}
	if len(r.UnknownGroupNames) > 0 {
		out = append(out, "unknown group names (no user belongs to them): "+strings.Join(r.UnknownGroupNames, ", "))
	}
	if len(r.Unreachable) > 0 {
		parts := make([]string, len(r.Unreachable))
		for i, u := range r.Unreachable {
			parts[i] = fmt.Sprintf("%s %s (%s)", u.Kind, u.ID, strings.ReplaceAll(u.Reason, "_", " "))
		}
		line := "not reached: " + strings.Join(parts, ", ")
		if r.UnreachableMore > 0 {
			line += fmt.Sprintf(", and %d more", r.UnreachableMore)
		}
		out = append(out, line)
	}
	return out
}
