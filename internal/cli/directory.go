package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cloche/cloche"
)

// directoryCmd groups the commands about the host's directory.
type directoryCmd struct {
	Import directoryImportCmd `cmd:"" help:"Import users and companies from a JSON file, in one transaction."`
	Sync   directorySyncCmd   `cmd:"" help:"Bring the directory to exactly a JSON snapshot: create, update, deactivate the missing."`
	Show   directoryShowCmd   `cmd:"" help:"Show a user, with groups, companies, follower and unread counts."`
}

type directorySyncCmd struct {
	File string `arg:"" placeholder:"FILE" help:"JSON snapshot {\"companies\": [...], \"users\": [...], \"groups\": [...]}; '-' reads standard input."`
}

func (c *directorySyncCmd) Help() string {
	return `The snapshot is the host's whole directory, in the import file's shape
plus an optional "groups" section listing members:
  {"companies": [{"id": 10, "name": "Atelier Nord"}],
   "users": [{"id": 1, "name": "Alice", "groups": ["manager"], "companies": [10],
              "account_type": "entrepreneur"}, {"id": 2, "name": "Bob"}],
   "groups": [{"name": "admin", "members": [1, 2]}]}
People and companies of a section given that Cloche holds but the file does
not are deactivated, never deleted; a section left out is left alone. Only
the differences are written, in one transaction; the same file again changes
nothing. Meant for a host's cron job:
  cloche directory sync /var/lib/erp/directory.json`
}

func (c *directorySyncCmd) Run(rt *runtime) error {
	r, closeFile, err := rt.input(c.File, "directory sync")
	if err != nil {
		return err
	}
	defer closeFile()
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	st, err := svc.SyncDirectoryFrom(rt.ctx, r)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(st)
	}
	rt.printf("people: %d created, %d updated, %d deactivated, %d unchanged\ncompanies: %d created, %d updated, %d deactivated, %d unchanged",
		st.Created, st.Updated, st.Deactivated, st.Unchanged,
		st.Companies.Created, st.Companies.Updated, st.Companies.Deactivated, st.Companies.Unchanged)
	return nil
}

type directoryImportCmd struct {
	File string `arg:"" placeholder:"FILE" help:"JSON file {\"companies\": [...], \"users\": [...]}; '-' reads standard input."`
}

func (c *directoryImportCmd) Help() string {
	return `The file has the shape
  {"companies": [{"id": 10, "name": "Atelier Nord", "email": "nord@example.org"}],
   "users": [{"id": 1, "email": "alice@example.org", "name": "Alice", "locale": "fr",
              "groups": ["manager"], "companies": [10], "follower_id": 2}]}
Ids may be strings or numbers; "active" defaults to true. One bad row rejects
the whole file, naming the row and the field.`
}

func (c *directoryImportCmd) Run(rt *runtime) error {
	r, closeFile, err := rt.input(c.File, "directory import")
	if err != nil {
		return err
	}
	defer closeFile()
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	stats, err := svc.ImportDirectory(rt.ctx, r)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(stats)
	}
	rt.printf("imported %s and %s", plural(stats.Companies, "company", "companies"), plural(stats.Users, "user", "users"))
	return nil
}

type directoryShowCmd struct {
	UserID string `arg:"" name:"user-id" help:"The user's id in the host application."`
}

// userView is the JSON output of directory show.
type userView struct {
	User   *cloche.User           `json:"user"`
	Unread map[cloche.Channel]int `json:"unread"`
}

func (c *directoryShowCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	u, err := svc.User(rt.ctx, c.UserID)
	if err != nil {
		return err
	}
	counts, err := svc.UnreadCounts(rt.ctx, c.UserID)
	if err != nil {
		return err
	}
	unread := map[cloche.Channel]int{}
	for _, ch := range inAppChannels() {
		unread[ch] = counts[ch]
	}
	if rt.globals.JSON {
		u.Groups, u.Companies = nonNil(u.Groups), nonNil(u.Companies)
		return rt.printJSON(userView{User: u, Unread: unread})
	}
	active := "yes"
	if !u.Active {
		active = "no"
	}
	var unreadParts []string
	for _, ch := range inAppChannels() {
		unreadParts = append(unreadParts, fmt.Sprintf("%s %d", ch, unread[ch]))
	}
	return rt.fields(
		[2]string{"id", u.ID},
		[2]string{"name", orDash(u.Name)},
		[2]string{"email", orDash(u.Email)},
		[2]string{"locale", orDash(u.Locale)},
		[2]string{"active", active},
		[2]string{"groups", orDash(strings.Join(u.Groups, ", "))},
		[2]string{"companies", orDash(strings.Join(u.Companies, ", "))},
		[2]string{"follower", orDash(u.FollowerID)},
		[2]string{"account type", orDash(u.AccountType)},
		[2]string{"unread", strings.Join(unreadParts, ", ")},
		[2]string{"updated", formatTime(&u.UpdatedAt, svc.Location())},
	)
}

// inAppChannels lists the channels shown in the host's pages, in a stable
// order.
func inAppChannels() []cloche.Channel {
	return []cloche.Channel{cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert}
}

// input opens file for reading, or standard input for "-"; what names the
// command in the error.
func (rt *runtime) input(file, what string) (io.Reader, func(), error) {
	if file == "-" {
		return rt.stdin, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return f, func() { _ = f.Close() }, nil
}
