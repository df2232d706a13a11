package web

import (
	"net/url"
	"strconv"
)

// pager is the navigation of a list: the total that matches, how many
// this page shows, and links to the first page, the newer (previous) and
// the older (next) one; a link is empty where there is no such page.
type pager struct {
	Noun         string // "events"
	Total, Shown int
	From         int // 1-based position of the first row shown; 0 if unknown
	First        string
	Prev, Next   string
	Where        string // "end" for the copy below the list
}

// atEnd is p for below the list: its landmark named apart, its ids left
// to the copy above.
func atEnd(p pager) pager {
	p.Where = "end"
	return p
}

// keyset pages a list ordered newest first by id: rows holds up to
// size+1 rows read before (or after) a cursor, the extra one telling that
// there is more in that direction. It returns the page to show and the
// pager's links; link builds a page's address from its query.
func keyset[T any](rows []T, id func(T) int64, size int, before, after int64, base url.Values, link func(url.Values) string) ([]T, pager) {
	var p pager
	moreOlder, moreNewer := false, false
	switch {
	case after > 0:
		// Read oldest first and turned round: the extra row is the newest.
		if len(rows) > size {
			rows, moreNewer = rows[1:], true
		}
		moreOlder = true
	default:
		if len(rows) > size {
			rows, moreOlder = rows[:size], true
		}
		moreNewer = before > 0
	}
	q := func(k string, v int64) string {
		u := url.Values{}
		for name, vs := range base {
			if vs[0] != "" {
				u[name] = vs
			}
		}
		if k != "" {
			u.Set(k, strconv.FormatInt(v, 10))
		}
		return link(u)
	}
	if before > 0 || after > 0 {
		p.First = q("", 0)
	}
	if len(rows) > 0 {
		if moreNewer {
			p.Prev = q("after", id(rows[0]))
		}
		if moreOlder {
			p.Next = q("before", id(rows[len(rows)-1]))
		}
	}
	p.Shown = len(rows)
	return rows, p
}
