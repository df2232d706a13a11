package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// Resolution is who an event reaches on one channel.
type Resolution struct {
	// UserIDs are the active users reached, each once, sorted. For the
	// e-mail channel they are the users who get a message of their own.
	UserIDs []string
	// Emails are the addresses reached on the e-mail channel, each once.
	Emails []store.DeliveryRecipient
	// UnknownUserIDs are given user ids (or the follower_user_id) that the
	// directory does not hold.
	UnknownUserIDs []string
	// UnknownCompanyID is the given company id when the directory does not
	// hold it.
	UnknownCompanyID string
	// FollowerFallback is true when the follower route fell back to groups.
	FollowerFallback bool
}

// Resolve applies the recipient rules:
//
//   - the routes are a union, and a user reached by several of them is
//     reached once;
//   - inactive users are reached by none of them, on any channel;
//   - a company reaches its active members; on e-mail, an active company
//     with an address of its own gets one message there instead;
//   - follower_user_id reaches that person's follower; when the person is
//     unknown, has none or the follower is inactive, it reaches the
//     fallback groups instead.
func Resolve(ctx context.Context, q store.Queries, r store.Recipients, channel store.Channel, fallbackGroups []string) (*Resolution, error) {
	res := &Resolution{}
	users := map[string]store.Contact{}
	add := func(cs []store.Contact) {
		for _, c := range cs {
			if c.Active {
				users[c.UserID] = c
			}
		}
	}

	groups := slices.Clone(r.GroupNames)
	if r.FollowerUserID != "" {
		follower, known, err := followerOf(ctx, q, r.FollowerUserID)
		if err != nil {
			return nil, err
		}
		if !known {
			res.UnknownUserIDs = append(res.UnknownUserIDs, r.FollowerUserID)
		}
		if follower == nil {
			res.FollowerFallback = true
			groups = append(groups, fallbackGroups...)
		} else {
			add([]store.Contact{*follower})
		}
	}
	if len(groups) > 0 {
		cs, err := q.GroupContacts(ctx, dedupe(groups))
		if err != nil {
			return nil, fmt.Errorf("directory: groups: %w", err)
		}
		add(cs)
	}
	if len(r.UserIDs) > 0 {
		ids := dedupe(r.UserIDs)
		cs, err := q.UserContacts(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("directory: users: %w", err)
		}
		add(cs)
		res.UnknownUserIDs = append(unknown(ids, cs), res.UnknownUserIDs...)
	}
	if r.CompanyID != "" {
		c, err := q.CompanyGet(ctx, r.CompanyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			res.UnknownCompanyID = r.CompanyID
		case err != nil:
			return nil, fmt.Errorf("directory: company: %w", err)
		case channel == store.ChannelEmail && c.Active && c.Email != "":
			res.Emails = append(res.Emails, store.DeliveryRecipient{CompanyID: c.ID, Address: c.Email})
		default:
			cs, err := q.CompanyContacts(ctx, c.ID)
			if err != nil {
				return nil, fmt.Errorf("directory: company members: %w", err)
			}
			add(cs)
		}
	}

	res.UserIDs = make([]string, 0, len(users))
	for id := range users {
		res.UserIDs = append(res.UserIDs, id)
	}
	slices.Sort(res.UserIDs)
	if channel == store.ChannelEmail {
		seen := map[string]bool{}
		for _, e := range res.Emails {
			seen[strings.ToLower(e.Address)] = true
		}
		for _, id := range res.UserIDs {
			addr := strings.TrimSpace(users[id].Email)
			if addr == "" || seen[strings.ToLower(addr)] {
				continue
			}
			seen[strings.ToLower(addr)] = true
			res.Emails = append(res.Emails, store.DeliveryRecipient{UserID: id, Address: addr})
		}
	}
	return res, nil
}

// followerOf returns the active follower of userID, or nil when there is
// none to reach; known tells whether userID itself exists.
func followerOf(ctx context.Context, q store.Queries, userID string) (follower *store.Contact, known bool, err error) {
	u, err := q.UserGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("directory: follower of %q: %w", userID, err)
	}
	if u.FollowerID == "" {
		return nil, true, nil
	}
	cs, err := q.UserContacts(ctx, []string{u.FollowerID})
	if err != nil {
		return nil, true, fmt.Errorf("directory: follower of %q: %w", userID, err)
	}
	if len(cs) == 0 || !cs[0].Active {
		return nil, true, nil
	}
	return &cs[0], true, nil
}

// Unknown returns the ids and company id among r that the directory does not
// hold, without resolving anybody: what notify reports for a scheduled event.
func Unknown(ctx context.Context, q store.Queries, r store.Recipients) (userIDs []string, companyID string, err error) {
	ids := dedupe(append(slices.Clone(r.UserIDs), r.FollowerUserID))
	if len(ids) > 0 {
		cs, err := q.UserContacts(ctx, ids)
		if err != nil {
			return nil, "", fmt.Errorf("directory: users: %w", err)
		}
		userIDs = unknown(ids, cs)
	}
	if r.CompanyID != "" {
		if _, err := q.CompanyGet(ctx, r.CompanyID); errors.Is(err, store.ErrNotFound) {
			companyID = r.CompanyID
		} else if err != nil {
			return nil, "", fmt.Errorf("directory: company: %w", err)
		}
	}
	return userIDs, companyID, nil
}

func unknown(ids []string, known []store.Contact) []string {
	have := make(map[string]bool, len(known))
	for _, c := range known {
		have[c.UserID] = true
	}
	var out []string
	for _, id := range ids {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}

// dedupe returns the distinct non-empty values of s, in first-seen order.
func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
