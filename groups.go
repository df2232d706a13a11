package cloche

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// Group is a group name with its number of members.
type Group = store.Group

// UserFilter selects a page of users, ordered by id; zero fields do not
// filter.
type UserFilter struct {
	Group     string
	CompanyID string
	After     string // continue a page: users whose id comes after this one
	Limit     int    // default 100, at most 1000
}

// UserPage is one page of users. Next, when not empty, is the After of the
// next page.
type UserPage struct {
	Items []User `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Users lists users of the directory, with their groups and companies.
func (s *Service) Users(ctx context.Context, f UserFilter) (*UserPage, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	if err := errors.Join(store.CheckID("group", f.Group), store.CheckID("company_id", f.CompanyID),
		store.CheckID("cursor", f.After)); err != nil {
		return nil, err
	}
	us, err := s.store.UserList(ctx, &store.UserListParams{Group: f.Group, CompanyID: f.CompanyID, AfterID: f.After, Limit: limit})
	if err != nil {
		return nil, wrap("users", err)
	}
	page := &UserPage{Items: us}
	if len(us) == limit {
		page.Next = us[len(us)-1].ID
	}
	return page, nil
}

// Groups lists the groups that have members.
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	gs, err := s.store.GroupList(ctx)
	return gs, wrap("groups", err)
}

// SetGroupMembers makes userIDs exactly the members of group (an empty
// list empties it). Every user must be in the directory; one unknown id
// changes nothing and is a *FieldError on "user_ids".
func (s *Service) SetGroupMembers(ctx context.Context, group string, userIDs []string) error {
	group = strings.TrimSpace(group)
	if group == "" {
		return store.Invalid("group", "must not be empty")
	}
	if err := store.CheckID("group", group); err != nil {
		return err
	}
	if err := errors.Join(store.CheckIDs("user_ids", userIDs)...); err != nil {
		return err
	}
	ids := make([]string, 0, len(userIDs))
	for i, id := range userIDs {
		id = strings.TrimSpace(id)
		if id == "" {
			return store.Invalid(fmt.Sprintf("user_ids[%d]", i), "must not be empty")
		}
		ids = append(ids, id)
	}
	return wrap(fmt.Sprintf("group %q", group), s.store.GroupSetMembers(ctx, &store.GroupSetMembersParams{Group: group, UserIDs: ids}))
}

// DeleteGroup removes every member from group and returns how many it
// had; ErrNotFound when it had none.
func (s *Service) DeleteGroup(ctx context.Context, group string) (int, error) {
	if err := store.CheckID("group", group); err != nil {
		return 0, err
	}
	n, err := s.store.GroupDelete(ctx, group)
	if errors.Is(err, store.ErrNotFound) {
		return 0, &store.Error{Kind: ErrNotFound, Msg: fmt.Sprintf("group %q has no members", group), Err: err}
	}
	return n, wrap(fmt.Sprintf("group %q", group), err)
}
