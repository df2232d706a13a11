package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// directoryData is the directory search page.
type directoryData struct {
	Query string
	Users []cloche.User
	Pager pager
	Names names // of the users' companies and followers
}

func (c *Console) directory(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &directoryData{Query: strings.TrimSpace(q.Get("q"))}
	offset := 0
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad page", "The page asked for is not one of this list; start again from the first page.")
			return
		}
		offset = n
	}
	ctx := r.Context()
	uq := cloche.UserQuery{Text: d.Query, Offset: offset, Limit: pageSize + 1}
	us, err := c.svc.SearchUsers(ctx, uq)
	if err == nil {
		d.Pager.Total, err = c.svc.CountUsers(ctx, uq)
	}
	if err != nil {
		c.serverError(w, r, s, "search the directory", err)
		return
	}
	link := func(off int) string {
		v := url.Values{}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return c.prefix + "/directory"
		}
		return c.prefix + "/directory?" + v.Encode()
	}
	if len(us) > pageSize {
		us, d.Pager.Next = us[:pageSize], link(offset+pageSize)
	}
	if offset > 0 {
		d.Pager.First, d.Pager.Prev = link(0), link(max(offset-pageSize, 0))
	}
	d.Users = us
	d.Pager.Noun, d.Pager.Shown = "people", len(us)
	if len(us) > 0 {
		d.Pager.From = offset + 1
	}
	var followers, companies []string
	for _, u := range us {
		if u.FollowerID != "" {
			followers = append(followers, u.FollowerID)
		}
		companies = append(companies, u.Companies...)
	}
	if d.Names, err = c.names(ctx, followers, companies); err != nil {
		c.serverError(w, r, s, "read the directory's names", err)
		return
	}
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
