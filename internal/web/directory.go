package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// directoryData is the directory search page.
type directoryData struct {
	Query  string
	Users  []cloche.User
	Offset int
	Next   int // offset of the next page; 0 when none
	Prev   int // offset of the previous page; -1 when none
}

func (c *Console) directory(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &directoryData{Query: strings.TrimSpace(q.Get("q")), Prev: -1}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad page", "offset must be a number, 0 or more.")
			return
		}
		d.Offset = n
	}
	us, err := c.svc.SearchUsers(r.Context(), cloche.UserQuery{Text: d.Query, Offset: d.Offset, Limit: pageSize + 1})
	if err != nil {
		c.serverError(w, r, s, "search the directory", err)
		return
	}
	if len(us) > pageSize {
		us, d.Next = us[:pageSize], d.Offset+pageSize
	}
	if d.Offset > 0 {
		d.Prev = max(d.Offset-pageSize, 0)
	}
	d.Users = us
	c.render(w, r, s, http.StatusOK, "directory", "Directory", "directory", d)
}

// userData is one user's page.
type userData struct {
	User      *cloche.User
	Companies []cloche.Company
	Follower  *cloche.User
	Follows   []cloche.User
	Unread    map[cloche.Channel]int
	Recent    []cloche.InboxItem
	Prefs     *prefGrid
}

func (c *Console) user(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.userPage(w, r, s, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	c.render(w, r, s, http.StatusOK, "user", cmp.Or(d.User.Name, d.User.ID), "directory", d)
}

// userPage reads what user id's page shows; when it cannot, it answers
// the error page and reports false.
func (c *Console) userPage(w http.ResponseWriter, r *http.Request, s *session, id string) (*userData, bool) {
	ctx := r.Context()
	u, err := c.svc.User(ctx, id)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such user", fmt.Sprintf("There is no user %q in the directory.", id))
		return nil, false
	} else if err != nil {
		c.serverError(w, r, s, "read the user", err)
		return nil, false
	}
	d := &userData{User: u}
	for _, cid := range u.Companies {
		co, err := c.svc.Company(ctx, cid)
		if err != nil {
			c.serverError(w, r, s, "read the user's companies", err)
			return nil, false
		}
		d.Companies = append(d.Companies, *co)
	}
	if u.FollowerID != "" {
		if d.Follower, err = c.svc.User(ctx, u.FollowerID); err != nil && !errors.Is(err, cloche.ErrNotFound) {
			c.serverError(w, r, s, "read the user's follower", err)
			return nil, false
		}
	}
	if d.Follows, err = c.svc.SearchUsers(ctx, cloche.UserQuery{FollowedBy: u.ID, Limit: 100}); err != nil {
		c.serverError(w, r, s, "list whom the user follows", err)
		return nil, false
	}
	if d.Unread, err = c.svc.UnreadCounts(ctx, u.ID); err != nil {
		c.serverError(w, r, s, "count the unread notifications", err)
		return nil, false
	}
	page, err := c.svc.Inbox(ctx, cloche.InboxQuery{UserID: u.ID, All: true, Limit: 20})
	if err != nil {
		c.serverError(w, r, s, "list the notifications", err)
		return nil, false
	}
	d.Recent = page.Items
	if d.Prefs, err = c.userGrid(ctx, u); err != nil {
		c.serverError(w, r, s, "read the preferences", err)
		return nil, false
	}
	d.Prefs.CSRF = c.keys.csrfToken(s.ID)
	return d, true
}
