package client

import (
	"context"
	"net/url"
	"time"
)

// User is a person of the host's directory.
type User struct {
	ID          string   `json:"id"`
	Email       string   `json:"email,omitempty"`
	Name        string   `json:"name,omitempty"`
	Locale      string   `json:"locale,omitempty"`
	Active      bool     `json:"active"`
	Groups      []string `json:"groups"`
	Companies   []string `json:"companies"`
	FollowerID  string   `json:"follower_id,omitempty"`
	AccountType string   `json:"account_type,omitempty"`
	// TimeZone is the person's IANA zone; empty: the organisation's.
	TimeZone  string    `json:"time_zone,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UserInput creates or replaces a user. Active nil means true; Locale
// empty means fr.
type UserInput struct {
	ID         string   `json:"id"`
	Email      string   `json:"email,omitempty"`
	Name       string   `json:"name,omitempty"`
	Locale     string   `json:"locale,omitempty"`
	Active     *bool    `json:"active,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Companies  []string `json:"companies,omitempty"`
	FollowerID string   `json:"follower_id,omitempty"`
	// AccountType: entrepreneur, equipe_appui, hybride (both), or another
	// string of the host's.
	AccountType string `json:"account_type,omitempty"`
	// TimeZone is the person's IANA zone (e.g. Europe/Paris); empty keeps
	// the one they have. An unknown one is refused, naming the nearest.
	TimeZone string `json:"time_zone,omitempty"`
}

// Company is a company of the host's directory.
type Company struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Active    bool      `json:"active"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CompanyInput creates or replaces a company. Active nil means true.
type CompanyInput struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Active *bool  `json:"active,omitempty"`
}

// DirectoryFile is the bulk import, as the command line's file.
type DirectoryFile struct {
	Companies []CompanyInput `json:"companies,omitempty"`
	Users     []UserInput    `json:"users,omitempty"`
}

// ImportStats counts what an import wrote.
type ImportStats struct {
	Companies int `json:"companies"`
	Users     int `json:"users"`
}

// Group is a group with its number of members.
type Group struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// UserFilter selects users; zero fields do not filter.
type UserFilter struct {
	Group     string
	CompanyID string
	Cursor    string
	Limit     int
}

// UpsertUser creates or replaces a user, with groups, companies and
// follower.
func (c *Client) UpsertUser(ctx context.Context, in UserInput) (*User, error) {
	var u User
	_, err := c.call(ctx, "PUT", "/api/v1/users/"+seg(in.ID), nil, in, &u, nil)
	return &u, err
}

// User returns one user.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	var u User
	_, err := c.call(ctx, "GET", "/api/v1/users/"+seg(id), nil, nil, &u, nil)
	return &u, err
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	_, err := c.call(ctx, "DELETE", "/api/v1/users/"+seg(id), nil, nil, nil, nil)
	return err
}

// Users lists users by id.
func (c *Client) Users(ctx context.Context, f UserFilter) (*Page[User], error) {
	q := url.Values{}
	if f.Group != "" {
		q.Set("group", f.Group)
	}
	if f.CompanyID != "" {
		q.Set("company_id", f.CompanyID)
	}
	var p Page[User]
	_, err := c.call(ctx, "GET", "/api/v1/users", pageQuery(q, f.Cursor, f.Limit), nil, &p, nil)
	return &p, err
}

// Groups lists the groups that have members.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var p Page[Group]
	_, err := c.call(ctx, "GET", "/api/v1/groups", nil, nil, &p, nil)
	return p.Items, err
}

// GroupMembers lists a group's members.
func (c *Client) GroupMembers(ctx context.Context, group, cursor string, limit int) (*Page[User], error) {
	var p Page[User]
	_, err := c.call(ctx, "GET", "/api/v1/groups/"+seg(group)+"/members", pageQuery(url.Values{}, cursor, limit), nil, &p, nil)
	return &p, err
}

// SetGroupMembers makes exactly userIDs the group's members.
func (c *Client) SetGroupMembers(ctx context.Context, group string, userIDs []string) error {
	if userIDs == nil {
		userIDs = []string{}
	}
	in := struct {
		UserIDs []string `json:"user_ids"`
	}{userIDs}
	_, err := c.call(ctx, "PUT", "/api/v1/groups/"+seg(group)+"/members", nil, in, nil, nil)
	return err
}

// DeleteGroup takes every member out of a group and says how many it had.
func (c *Client) DeleteGroup(ctx context.Context, group string) (int, error) {
	var out struct {
		Removed int `json:"removed"`
	}
	_, err := c.call(ctx, "DELETE", "/api/v1/groups/"+seg(group), nil, nil, &out, nil)
	return out.Removed, err
}

// UpsertCompany creates or replaces a company.
func (c *Client) UpsertCompany(ctx context.Context, in CompanyInput) (*Company, error) {
	var co Company
	_, err := c.call(ctx, "PUT", "/api/v1/companies/"+seg(in.ID), nil, in, &co, nil)
	return &co, err
}

// Company returns one company.
func (c *Client) Company(ctx context.Context, id string) (*Company, error) {
	var co Company
	_, err := c.call(ctx, "GET", "/api/v1/companies/"+seg(id), nil, nil, &co, nil)
	return &co, err
}

// DeleteCompany deletes a company and its memberships.
func (c *Client) DeleteCompany(ctx context.Context, id string) error {
	_, err := c.call(ctx, "DELETE", "/api/v1/companies/"+seg(id), nil, nil, nil, nil)
	return err
}

// ImportDirectory writes users and companies in one transaction; one bad
// row rejects everything (ErrInvalid, Field naming row and field).
func (c *Client) ImportDirectory(ctx context.Context, f DirectoryFile) (*ImportStats, error) {
	var s ImportStats
	_, err := c.call(ctx, "POST", "/api/v1/directory/import", nil, f, &s, nil)
	return &s, err
}

// DirectorySnapshot is a host's whole directory. A nil section is left
// alone; a section given is the whole truth: what Cloche holds beyond it
// is deactivated, never deleted.
type DirectorySnapshot struct {
	Companies []CompanyInput `json:"companies"`
	Users     []UserInput    `json:"users"`
	Groups    []GroupInput   `json:"groups"`
}

// GroupInput is a group of a snapshot and its members (user ids of the
// snapshot), added to the people's own groups.
type GroupInput struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// SyncCounts say what a sync did to one kind of row.
type SyncCounts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Unchanged   int `json:"unchanged"`
}

// SyncStats say what a sync did to people, and to companies.
type SyncStats struct {
	SyncCounts
	Companies SyncCounts `json:"companies"`
}

// SyncDirectory brings Cloche's directory to exactly snap, in one
// transaction (PUT /api/v1/directory).
func (c *Client) SyncDirectory(ctx context.Context, snap DirectorySnapshot) (*SyncStats, error) {
	var s SyncStats
	_, err := c.call(ctx, "PUT", "/api/v1/directory", nil, snap, &s, nil)
	return &s, err
}

// Delivery is one message of one event to one target of an outbound
// channel: an e-mail to an address, a push to a subscription, a webhook to
// an outlet.
type Delivery struct {
	ID int64 `json:"id"`
	// Channel is email, push or webhook; Target the address, the push
	// subscription id or the webhook outlet id.
	Channel     string     `json:"channel"`
	Target      string     `json:"target"`
	EventID     int64      `json:"event_id"`
	UserID      string     `json:"user_id,omitempty"`
	CompanyID   string     `json:"company_id,omitempty"`
	Address     string     `json:"address"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastCode    int        `json:"last_code,omitempty"`
	LastMessage string     `json:"last_message,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	// NotBefore is when a held e-mail may leave; HoldReason why it was
	// held: "quiet_hours", or "unread" (state "skipped" when the in-app
	// notification was read first).
	NotBefore  *time.Time `json:"not_before,omitempty"`
	HoldReason string     `json:"hold_reason,omitempty"`
}

// DeliveryFilter selects deliveries; zero fields do not filter.
type DeliveryFilter struct {
	Channel string // email, push, webhook
	State   string
	EventID int64
	Cursor  string
	Limit   int
}

// Deliveries lists deliveries of every outbound channel (of f.Channel,
// when set), newest first.
func (c *Client) Deliveries(ctx context.Context, f DeliveryFilter) (*Page[Delivery], error) {
	q := url.Values{}
	if f.Channel != "" {
		q.Set("channel", f.Channel)
	}
	if f.State != "" {
		q.Set("status", f.State)
	}
	if f.EventID > 0 {
		q.Set("event_id", id64(f.EventID))
	}
	var p Page[Delivery]
	_, err := c.call(ctx, "GET", "/api/v1/deliveries", pageQuery(q, f.Cursor, f.Limit), nil, &p, nil)
	return &p, err
}

// Delivery returns one delivery.
func (c *Client) Delivery(ctx context.Context, id int64) (*Delivery, error) {
	var d Delivery
	_, err := c.call(ctx, "GET", "/api/v1/deliveries/"+id64(id), nil, nil, &d, nil)
	return &d, err
}

// RetryDelivery queues a failed delivery again (ErrConflict if it has not
// failed).
func (c *Client) RetryDelivery(ctx context.Context, id int64) (*Delivery, error) {
	var d Delivery
	_, err := c.call(ctx, "POST", "/api/v1/deliveries/"+id64(id)+"/retry", nil, nil, &d, nil)
	return &d, err
}
