package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// Routes are an event's recipients made ready for fan-out: the follower
// route turned into a user id or the fallback groups, the company checked,
// and what is unknown set aside for the sender's information.
type Routes struct {
	GroupNames []string
	UserIDs    []string
	// CompanyID is set when the company's members are to be reached.
	CompanyID string
	// CompanyAddress is set, on the e-mail channel, when an active company
	// has an address of its own: it gets one message instead of its members.
	CompanyAddress *store.DeliveryRecipient
	// UnknownUserIDs are given user ids (or the follower_user_id) that the
	// directory does not hold.
	UnknownUserIDs []string
	// UnknownCompanyID is the given company id when the directory does not
	// hold it.
	UnknownCompanyID string
	// FollowerFallback is true when the follower route fell back to groups.
	FollowerFallback bool
}

// Plan applies the routing rules that do not depend on the number of
// people reached:
//
//   - follower_user_id reaches that person's follower; when the person is
//     unknown, has none or the follower is inactive, it reaches the
//     fallback groups instead;
//   - a company reaches its active members; on e-mail, an active company
//     with an address of its own gets one message there instead.
//
// The rest (union of routes, each user once, inactive users never) is the
// fan-out's: NotificationFanOut in the database for in-app channels, Emails
// for e-mail.
func Plan(ctx context.Context, q store.Queries, r store.Recipients, channel store.Channel, fallbackGroups []string) (*Routes, error) {
	rt := &Routes{GroupNames: dedupe(r.GroupNames), UserIDs: dedupe(r.UserIDs)}
	if len(rt.UserIDs) > 0 {
		cs, err := q.UserContacts(ctx, rt.UserIDs)
		if err != nil {
			return nil, fmt.Errorf("directory: users: %w", err)
		}
		rt.UnknownUserIDs = unknown(rt.UserIDs, cs)
	}
	if r.FollowerUserID != "" {
		follower, known, err := followerOf(ctx, q, r.FollowerUserID)
		if err != nil {
			return nil, err
		}
		if !known {
			rt.UnknownUserIDs = append(rt.UnknownUserIDs, r.FollowerUserID)
		}
		if follower == nil {
			rt.FollowerFallback = true
			rt.GroupNames = dedupe(append(rt.GroupNames, fallbackGroups...))
		} else {
			rt.UserIDs = dedupe(append(rt.UserIDs, follower.UserID))
		}
	}
	if r.CompanyID != "" {
		c, err := q.CompanyGet(ctx, r.CompanyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			rt.UnknownCompanyID = r.CompanyID
		case err != nil:
			return nil, fmt.Errorf("directory: company: %w", err)
		case channel == store.ChannelEmail && c.Active && c.Email != "":
			rt.CompanyAddress = &store.DeliveryRecipient{CompanyID: c.ID, Address: c.Email}
		default:
			rt.CompanyID = c.ID
		}
	}
	return rt, nil
}

// Emails returns the addresses an e-mail event reaches: the company's own
// address if any, then each active user reached who has an address, each
// address once (compared without case).
func Emails(ctx context.Context, q store.Queries, rt *Routes) ([]store.DeliveryRecipient, error) {
	users := map[string]store.Contact{}
	add := func(cs []store.Contact, err error) error {
		for _, c := range cs {
			if c.Active {
				users[c.UserID] = c
			}
		}
		return err
	}
	if len(rt.GroupNames) > 0 {
		if err := add(q.GroupContacts(ctx, rt.GroupNames)); err != nil {
			return nil, fmt.Errorf("directory: groups: %w", err)
		}
	}
	if len(rt.UserIDs) > 0 {
		if err := add(q.UserContacts(ctx, rt.UserIDs)); err != nil {
			return nil, fmt.Errorf("directory: users: %w", err)
		}
	}
	if rt.CompanyID != "" {
		if err := add(q.CompanyContacts(ctx, rt.CompanyID)); err != nil {
			return nil, fmt.Errorf("directory: company members: %w", err)
		}
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []store.DeliveryRecipient
	seen := map[string]bool{}
	if rt.CompanyAddress != nil {
		out = append(out, *rt.CompanyAddress)
		seen[strings.ToLower(rt.CompanyAddress.Address)] = true
	}
	for _, id := range ids {
		addr := strings.TrimSpace(users[id].Email)
		if addr == "" || seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		out = append(out, store.DeliveryRecipient{UserID: id, Address: addr})
	}
	return out, nil
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
