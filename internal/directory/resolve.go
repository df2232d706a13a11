package directory

import (
	"cmp"
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
	// AccountType reaches the active people of that account type
	// (store.AccountTypesReached); "all" every active person.
	AccountType string
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
	// InactiveUserIDs are given user ids of users marked inactive.
	InactiveUserIDs []string
	// CompanyInactive is true when the company of CompanyID is inactive.
	CompanyInactive bool

	// Why each person is reached, for the footer of e-mails.

	// Follower is the follower reached through follower_user_id, when the
	// sender did not also name them in user_ids; FollowedName names the
	// person followed.
	Follower     string
	FollowedName string
	// FallbackGroups are the groups added because the follower route fell
	// back (those the sender did not also name).
	FallbackGroups []string
	// CompanyName is the name of the company reached, if any.
	CompanyName string
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
	rt := &Routes{GroupNames: dedupe(r.GroupNames), UserIDs: dedupe(r.UserIDs), AccountType: r.AccountType}
	if len(rt.UserIDs) > 0 {
		cs, err := q.UserContacts(ctx, rt.UserIDs)
		if err != nil {
			return nil, fmt.Errorf("directory: users: %w", err)
		}
		rt.UnknownUserIDs = unknown(rt.UserIDs, cs)
		rt.InactiveUserIDs = inactive(rt.UserIDs, cs)
	}
	if r.FollowerUserID != "" {
		follower, followed, known, err := followerOf(ctx, q, r.FollowerUserID)
		if err != nil {
			return nil, err
		}
		if !known {
			rt.UnknownUserIDs = append(rt.UnknownUserIDs, r.FollowerUserID)
		}
		if follower == nil {
			rt.FollowerFallback = true
			for _, g := range dedupe(fallbackGroups) {
				if !slices.Contains(rt.GroupNames, g) {
					rt.FallbackGroups = append(rt.FallbackGroups, g)
				}
			}
			rt.GroupNames = dedupe(append(rt.GroupNames, fallbackGroups...))
		} else {
			if !slices.Contains(rt.UserIDs, follower.UserID) {
				rt.Follower, rt.FollowedName = follower.UserID, followed
			}
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
			rt.CompanyAddress = &store.DeliveryRecipient{CompanyID: c.ID, Address: c.Email, Reason: "company_address:" + cmp.Or(c.Name, c.ID)}
			rt.CompanyName = cmp.Or(c.Name, c.ID)
		default:
			rt.CompanyID = c.ID
			rt.CompanyName = cmp.Or(c.Name, c.ID)
			rt.CompanyInactive = !c.Active
		}
	}
	return rt, nil
}

// Emails returns the addresses an e-mail event reaches: the company's own
// address if any, then each active user reached who has an address, each
// address once (compared without case). Each says why it is reached (see
// store.DeliveryRecipient.Reason): by the first route that reaches it, in
// the order user ids, follower, groups, company, account type. noEmail are the active
// users reached who have no address, by id.
func Emails(ctx context.Context, q store.Queries, rt *Routes) (out []store.DeliveryRecipient, noEmail []string, err error) {
	return emails(ctx, q, rt, nil, nil)
}

// EmailsWhere is Emails less the users keep refuses (their preferences
// turn e-mail off). They are left out before addresses are shared out, so
// that a person who shares an address with one who refused still gets it.
func EmailsWhere(ctx context.Context, q store.Queries, rt *Routes, keep func(userID string) bool) (out []store.DeliveryRecipient, noEmail []string, err error) {
	return emails(ctx, q, rt, nil, keep)
}

// EmailsAmong is Emails limited to the users of among (a few, such as
// those whose preferences add e-mail to a type): only their contacts are
// read, and a company's own address, being no person's, is left out.
func EmailsAmong(ctx context.Context, q store.Queries, rt *Routes, among []string) (out []store.DeliveryRecipient, noEmail []string, err error) {
	if among == nil {
		among = []string{}
	}
	return emails(ctx, q, rt, among, nil)
}

func emails(ctx context.Context, q store.Queries, rt *Routes, among []string, keep func(string) bool) (out []store.DeliveryRecipient, noEmail []string, err error) {
	var only map[string]bool
	if among != nil {
		only = make(map[string]bool, len(among))
		for _, id := range among {
			only[id] = true
		}
	}
	users := map[string]store.Contact{}
	reasons := map[string]string{}
	add := func(reason func(id string) string) func([]store.Contact, error) error {
		return func(cs []store.Contact, err error) error {
			for _, c := range cs {
				if only != nil && !only[c.UserID] {
					continue
				}
				if _, seen := users[c.UserID]; c.Active && !seen {
					users[c.UserID], reasons[c.UserID] = c, reason(c.UserID)
				}
			}
			return err
		}
	}
	userIDs := rt.UserIDs
	if only != nil {
		userIDs = slices.DeleteFunc(slices.Clone(userIDs), func(id string) bool { return !only[id] })
	}
	if len(userIDs) > 0 {
		direct := func(id string) string {
			if id == rt.Follower {
				return "follower:" + rt.FollowedName
			}
			return "direct"
		}
		if err := add(direct)(q.UserContacts(ctx, userIDs)); err != nil {
			return nil, nil, fmt.Errorf("directory: users: %w", err)
		}
	}
	for _, g := range rt.GroupNames {
		kind := "group:"
		if slices.Contains(rt.FallbackGroups, g) {
			kind = "fallback_group:"
		}
		contacts := q.GroupContacts
		if only != nil {
			contacts = func(ctx context.Context, groups []string) ([]store.Contact, error) {
				return q.GroupContactsAmong(ctx, groups, among)
			}
		}
		if err := add(func(string) string { return kind + g })(contacts(ctx, []string{g})); err != nil {
			return nil, nil, fmt.Errorf("directory: groups: %w", err)
		}
	}
	if rt.CompanyID != "" {
		member := func(string) string { return "company:" + rt.CompanyName }
		if err := add(member)(q.CompanyContacts(ctx, rt.CompanyID)); err != nil {
			return nil, nil, fmt.Errorf("directory: company members: %w", err)
		}
	}
	if rt.AccountType != "" {
		contacts := q.AccountTypeContacts
		if only != nil {
			contacts = func(ctx context.Context, t string) ([]store.Contact, error) {
				return q.AccountTypeContactsAmong(ctx, t, among)
			}
		}
		if err := add(func(string) string { return "account_type:" + rt.AccountType })(contacts(ctx, rt.AccountType)); err != nil {
			return nil, nil, fmt.Errorf("directory: account type: %w", err)
		}
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	seen := map[string]bool{}
	if rt.CompanyAddress != nil && only == nil {
		out = append(out, *rt.CompanyAddress)
		seen[strings.ToLower(rt.CompanyAddress.Address)] = true
	}
	for _, id := range ids {
		if keep != nil && !keep(id) {
			continue
		}
		addr := strings.TrimSpace(users[id].Email)
		if addr == "" {
			noEmail = append(noEmail, id)
			continue
		}
		if seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		out = append(out, store.DeliveryRecipient{UserID: id, Address: addr, Reason: reasons[id]})
	}
	return out, noEmail, nil
}

// followerOf returns the active follower of userID, or nil when there is
// none to reach; followed is the name of userID (its id if it has none),
// known tells whether userID itself exists.
func followerOf(ctx context.Context, q store.Queries, userID string) (follower *store.Contact, followed string, known bool, err error) {
	u, err := q.UserGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", false, nil
	} else if err != nil {
		return nil, "", false, fmt.Errorf("directory: follower of %q: %w", userID, err)
	}
	followed = cmp.Or(u.Name, u.ID)
	if u.FollowerID == "" {
		return nil, followed, true, nil
	}
	cs, err := q.UserContacts(ctx, []string{u.FollowerID})
	if err != nil {
		return nil, followed, true, fmt.Errorf("directory: follower of %q: %w", userID, err)
	}
	if len(cs) == 0 || !cs[0].Active {
		return nil, followed, true, nil
	}
	return &cs[0], followed, true, nil
}

// Unknown reports the user ids, company id and group names among r that
// the directory does not hold, without resolving anybody: what notify
// reports for a scheduled event when it is created.
func Unknown(ctx context.Context, q store.Queries, r store.Recipients) (*store.SendReport, error) {
	rep := &store.SendReport{}
	ids := dedupe(append(slices.Clone(r.UserIDs), r.FollowerUserID))
	if len(ids) > 0 {
		cs, err := q.UserContacts(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("directory: users: %w", err)
		}
		rep.UnknownUserIDs = unknown(ids, cs)
	}
	if r.CompanyID != "" {
		if _, err := q.CompanyGet(ctx, r.CompanyID); errors.Is(err, store.ErrNotFound) {
			rep.UnknownCompanyID = r.CompanyID
		} else if err != nil {
			return nil, fmt.Errorf("directory: company: %w", err)
		}
	}
	if groups := dedupe(r.GroupNames); len(groups) > 0 {
		active, err := q.GroupsActive(ctx, groups)
		if err != nil {
			return nil, fmt.Errorf("directory: groups: %w", err)
		}
		for _, g := range groups {
			if _, ok := active[g]; !ok {
				rep.UnknownGroupNames = append(rep.UnknownGroupNames, g)
			}
		}
	}
	return rep, nil
}

// Report says who among the recipients of rt gets nothing, and why: what
// the directory does not hold (user ids, the company, group names), named
// users who are inactive, an inactive company, groups and a company
// without an active member, and noEmail, the users without an address
// that Emails found. At most store.MaxUnreachable are listed.
func Report(ctx context.Context, q store.Queries, rt *Routes, noEmail []string) (*store.SendReport, error) {
	rep := &store.SendReport{UnknownUserIDs: rt.UnknownUserIDs, UnknownCompanyID: rt.UnknownCompanyID}
	for _, id := range rt.InactiveUserIDs {
		rep.AddUnreachable(store.Unreachable{Kind: "user", ID: id, Reason: store.ReasonInactive})
	}
	if len(rt.GroupNames) > 0 {
		active, err := q.GroupsActive(ctx, rt.GroupNames)
		if err != nil {
			return nil, fmt.Errorf("directory: groups: %w", err)
		}
		for _, g := range rt.GroupNames {
			switch live, ok := active[g]; {
			case !ok:
				rep.UnknownGroupNames = append(rep.UnknownGroupNames, g)
			case !live:
				rep.AddUnreachable(store.Unreachable{Kind: "group", ID: g, Reason: store.ReasonNoActiveMember})
			}
		}
	}
	if rt.CompanyID != "" {
		if rt.CompanyInactive {
			rep.AddUnreachable(store.Unreachable{Kind: "company", ID: rt.CompanyID, Reason: store.ReasonInactive})
		} else if cs, err := q.CompanyContacts(ctx, rt.CompanyID); err != nil {
			return nil, fmt.Errorf("directory: company members: %w", err)
		} else if len(cs) == 0 {
			rep.AddUnreachable(store.Unreachable{Kind: "company", ID: rt.CompanyID, Reason: store.ReasonNoActiveMember})
		}
	}
	if rt.AccountType != "" {
		if live, err := q.AccountTypeActive(ctx, rt.AccountType); err != nil {
			return nil, fmt.Errorf("directory: account type: %w", err)
		} else if !live {
			rep.AddUnreachable(store.Unreachable{Kind: "account_type", ID: rt.AccountType, Reason: store.ReasonNoActiveMember})
		}
	}
	for _, id := range noEmail {
		rep.AddUnreachable(store.Unreachable{Kind: "user", ID: id, Reason: store.ReasonNoEmail})
	}
	return rep, nil
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

// inactive returns the ids whose contact is inactive, in the order of ids.
func inactive(ids []string, known []store.Contact) []string {
	off := map[string]bool{}
	for _, c := range known {
		if !c.Active {
			off[c.UserID] = true
		}
	}
	var out []string
	for _, id := range ids {
		if off[id] {
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
