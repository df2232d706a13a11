package cli

import (
	"context"
	"time"

	"github.com/cloche/cloche"
)

// inboxCmd groups the commands about a user's in-app notifications.
// `cloche inbox USER_ID` is `cloche inbox list USER_ID`: list is the default
// subcommand, and takes its arguments even when it is not named.
type inboxCmd struct {
	List      inboxListCmd      `cmd:"" default:"withargs" help:"List a user's notifications, newest first ('cloche inbox USER_ID' for short)."`
	Read      inboxReadCmd      `cmd:"" help:"Mark a notification read."`
	Unread    inboxUnreadCmd    `cmd:"" help:"Mark a notification unread again."`
	ReadAll   inboxReadAllCmd   `cmd:"" name:"read-all" help:"Mark all of a user's visible notifications read."`
	Postpone  inboxPostponeCmd  `cmd:"" help:"Hide a notification until a datetime; it comes back at the top."`
	Archive   inboxArchiveCmd   `cmd:"" help:"Move a notification to the archive: it leaves the inbox and the unread counts, and is kept."`
	Unarchive inboxUnarchiveCmd `cmd:"" help:"Bring an archived notification back to the inbox."`
}

type inboxListCmd struct {
	UserID   string          `arg:"" name:"user-id" help:"The user's id in the host application."`
	Channel  *cloche.Channel `short:"c" enum:"${in_app_channels}" placeholder:"CHANNEL" help:"Only this channel (${enum}; default: all three)."`
	All      bool            `short:"a" help:"Include read notifications."`
	Archived bool            `help:"List the archive (read and unread) instead of the inbox."`
	Limit    int             `default:"20" help:"At most this many notifications (up to 200)."`
	Cursor   string          `placeholder:"CURSOR" help:"Continue after a previous page: the cursor it printed."`
}

func (c *inboxListCmd) Run(rt *runtime) error {
	q := cloche.InboxQuery{UserID: c.UserID, All: c.All, Archived: c.Archived, Cursor: c.Cursor, Limit: c.Limit}
	if c.Channel != nil {
		q.Channel = *c.Channel
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	page, err := svc.Inbox(rt.ctx, q)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		page.Items = nonNil(page.Items)
		return rt.printJSON(page)
	}
	if len(page.Items) == 0 {
		if c.Archived {
			rt.printf("no archived notifications for user %s", c.UserID)
		} else if c.All {
			rt.printf("no notifications for user %s", c.UserID)
		} else {
			rt.printf("no unread notifications for user %s", c.UserID)
		}
		return nil
	}
	loc := svc.Location()
	t := rt.table("ID", "CHANNEL", "CREATED", "READ", "TITLE", "BODY")
	for _, it := range page.Items {
		read := "unread"
		if it.ReadAt != nil {
			read = "read"
		}
		t.row(it.ID, it.Channel, formatTime(&it.CreatedAt, loc), read, truncate(it.Title, 50), firstLine(it.Body, 60))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if page.Next != "" {
		rt.printf("next page: --cursor %s", page.Next)
	}
	return nil
}

type inboxReadCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id."`
	ID     int64  `arg:"" name:"notification-id" help:"The notification's id."`
}

func (c *inboxReadCmd) Run(rt *runtime) error {
	return rt.setRead(c.UserID, c.ID, true)
}

type inboxUnreadCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id."`
	ID     int64  `arg:"" name:"notification-id" help:"The notification's id."`
}

func (c *inboxUnreadCmd) Run(rt *runtime) error {
	return rt.setRead(c.UserID, c.ID, false)
}

// readMark is the JSON output of inbox read and unread.
type readMark struct {
	ID   int64 `json:"id"`
	Read bool  `json:"read"`
}

func (rt *runtime) setRead(userID string, id int64, read bool) error {
	do, done := (*cloche.Service).MarkUnread, "marked unread"
	if read {
		do, done = (*cloche.Service).MarkRead, "marked read"
	}
	return rt.markNotification(userID, id, do, readMark{ID: id, Read: read}, done)
}

// markNotification applies do to the user's notification id, then prints
// out (--json) or says it is done.
func (rt *runtime) markNotification(userID string, id int64, do func(*cloche.Service, context.Context, string, int64) error, out any, done string) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := do(svc, rt.ctx, userID, id); err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(out)
	}
	rt.printf("notification %d %s", id, done)
	return nil
}

type inboxReadAllCmd struct {
	UserID  string          `arg:"" name:"user-id" help:"The user's id."`
	Channel *cloche.Channel `short:"c" enum:"${in_app_channels}" placeholder:"CHANNEL" help:"Only this channel (${enum}; default: all three)."`
}

func (c *inboxReadAllCmd) Run(rt *runtime) error {
	var ch cloche.Channel // empty: every in-app channel
	if c.Channel != nil {
		ch = *c.Channel
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	total, err := svc.MarkAllRead(rt.ctx, c.UserID, ch)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			Marked int `json:"marked"`
		}{total})
	}
	rt.printf("%s marked read", plural(total, "notification", "notifications"))
	return nil
}

type inboxPostponeCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id."`
	ID     int64  `arg:"" name:"notification-id" help:"The notification's id."`
	Until  string `placeholder:"DATETIME" help:"Hide it until then: ${datetime_forms} (default: the configured postpone_default, 7 days)."`
}

func (c *inboxPostponeCmd) Run(rt *runtime) error {
	loc, err := rt.location()
	if err != nil {
		return err
	}
	until, err := optionalDatetime("--until", c.Until, loc)
	if err != nil {
		return err
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	at, err := svc.Postpone(rt.ctx, c.UserID, c.ID, until)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			ID    int64     `json:"id"`
			Until time.Time `json:"until"`
		}{c.ID, at})
	}
	rt.printf("notification %d hidden until %s", c.ID, formatTime(&at, loc))
	return nil
}

type inboxArchiveCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id."`
	ID     int64  `arg:"" name:"notification-id" help:"The notification's id."`
}

func (c *inboxArchiveCmd) Run(rt *runtime) error {
	return rt.setArchived(c.UserID, c.ID, true)
}

type inboxUnarchiveCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id."`
	ID     int64  `arg:"" name:"notification-id" help:"The notification's id."`
}

func (c *inboxUnarchiveCmd) Run(rt *runtime) error {
	return rt.setArchived(c.UserID, c.ID, false)
}

// archiveMark is the JSON output of inbox archive and unarchive.
type archiveMark struct {
	ID       int64 `json:"id"`
	Archived bool  `json:"archived"`
}

func (rt *runtime) setArchived(userID string, id int64, archived bool) error {
	do, done := (*cloche.Service).Unarchive, "back in the inbox"
	if archived {
		do, done = (*cloche.Service).Archive, "archived"
	}
	return rt.markNotification(userID, id, do, archiveMark{ID: id, Archived: archived}, done)
}
