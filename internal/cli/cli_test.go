package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// The acceptance path: import a directory, notify a group, find the
// notification in a member's inbox.
func TestAcceptance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		out := h.ok("notify", "-k", "message:internal", "--title", "Hi", "--body", "Hello", "-g", "manager")
		if want := "published on message: 2 users reached"; !strings.Contains(out, want) {
			t.Errorf("notify printed %q, want %q", out, want)
		}
		inbox := h.ok("inbox", "1")
		if !strings.Contains(inbox, "Hi") || !strings.Contains(inbox, "Hello") || !strings.Contains(inbox, "unread") {
			t.Errorf("inbox 1:\n%s", inbox)
		}
		if got := h.ok("inbox", "list", "2"); !strings.Contains(got, "Hi") {
			t.Errorf("inbox list 2:\n%s", got)
		}
		if got := h.ok("inbox", "3"); strings.Contains(got, "Hi") {
			t.Errorf("carol is no manager, yet:\n%s", got)
		}
		show := h.ok("directory", "show", "1")
		for _, want := range []string{"Alice", "admin, manager", "10", "message 1, header_message 0, alert 0"} {
			if !strings.Contains(show, want) {
				t.Errorf("directory show 1 lacks %q:\n%s", want, show)
			}
		}
	})
}

func TestEnDISpellings(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.importDirectory()
	body := h.file("body.txt", "Read from a file.\nSecond line.\n")
	var res cloche.Result
	h.json(&res, "notify", "--event-key", "message:internal", "--title", "enDI", "--groups", "admin",
		"--uids", "3,99", "--filename", body)
	if res.Status != cloche.EventPublished || res.Reached[cloche.ChannelMessage] != 2 {
		t.Errorf("result %+v, want published to alice and carol", res)
	}
	if !slices.Equal(res.UnknownUserIDs, []string{"99"}) {
		t.Errorf("unknown user ids %v, want [99]", res.UnknownUserIDs)
	}
	var ev cloche.Event
	h.json(&ev, "events", "show", fmt.Sprint(res.EventID))
	if ev.Key != "message:internal" || ev.Body != "Read from a file.\nSecond line.\n" ||
		!slices.Equal(ev.Recipients.GroupNames, []string{"admin"}) || !slices.Equal(ev.Recipients.UserIDs, []string{"3", "99"}) {
		t.Errorf("event %+v", ev)
	}

	// Short flags, repeated and comma-separated values, body from stdin.
	r := h.runCtx(context.Background(), "from stdin", "notify", "-k", "message:internal", "--title", "short",
		"-g", "manager,admin", "-u", "3", "-u", "4", "-f", "-", "-c", "alert")
	if r.code != 0 || !strings.Contains(r.stdout, "published on alert: 3 users reached") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := h.ok("inbox", "3", "--channel", "alert"); !strings.Contains(got, "from stdin") {
		t.Errorf("inbox 3 --channel alert:\n%s", got)
	}
	if r := h.run("notify", "--title", "T", "-u", "1", "-u", "99", "--company", "77"); r.code != 0 ||
		!strings.Contains(r.stderr, "warning: unknown user ids (not in the directory): 99") ||
		!strings.Contains(r.stderr, "warning: unknown company 77") {
		t.Errorf("warnings: exit %d\n%s", r.code, r.stderr)
	}
}

func TestJSONOutput(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	var stats cloche.ImportStats
	h.json(&stats, "directory", "import", h.file("dir.json", testDirectory))
	if stats.Users != 4 || stats.Companies != 2 {
		t.Errorf("import stats %+v", stats)
	}
	var evs []cloche.Event
	if out := h.ok("events", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty events list --json printed %q, want []", out)
	}
	var res cloche.Result
	h.json(&res, "notify", "-k", "message:internal", "--title", "J", "-u", "1")
	if res.EventID == 0 || res.Channel != cloche.ChannelMessage || res.Reached[cloche.ChannelMessage] != 1 {
		t.Errorf("notify --json: %+v", res)
	}
	h.json(&evs, "events", "list")
	if len(evs) != 1 || evs[0].ID != res.EventID || evs[0].Counts[cloche.ChannelMessage] != 1 {
		t.Errorf("events list --json: %+v", evs)
	}
	var page cloche.InboxPage
	h.json(&page, "inbox", "1")
	if len(page.Items) != 1 || page.Items[0].Title != "J" {
		t.Fatalf("inbox --json: %+v", page)
	}
	var types []cloche.NotificationType
	h.json(&types, "types", "list")
	if !slices.ContainsFunc(types, func(ty cloche.NotificationType) bool { return ty.Key == "message:internal" && ty.Builtin }) {
		t.Errorf("types list --json lacks message:internal: %+v", types)
	}
	var user userView
	h.json(&user, "directory", "show", "1")
	if user.User.Name != "Alice" || user.Unread[cloche.ChannelMessage] != 1 || len(user.Unread) != 3 {
		t.Errorf("directory show --json: %+v", user)
	}
	var mark readMark
	h.json(&mark, "inbox", "read", "1", fmt.Sprint(page.Items[0].ID))
	if !mark.Read {
		t.Errorf("inbox read --json: %+v", mark)
	}
	var ds []cloche.Delivery
	h.json(&ds, "deliveries", "list")
	if len(ds) != 0 {
		t.Errorf("deliveries: %+v", ds)
	}
	var migrated struct{ Backend string }
	h.json(&migrated, "migrate")
	if migrated.Backend != "sqlite" {
		t.Errorf("migrate --json: %+v", migrated)
	}
}

func TestUsageErrors(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"notify", "--title", "T", "-g", "manager", "--from", "tomorrow"}, []string{`--from: "tomorrow" is not a datetime`, "cloche notify --help"}},
		{[]string{"notify", "--title", "T", "-g", "manager", "--until", "2023-13-45"}, []string{"--until:"}},
		{[]string{"notify", "--title", "T", "-g", "manager", "--context", "invoice"}, []string{`--context: "invoice" is not TYPE:ID`}},
		{[]string{"notify", "--title", "T", "-g", "manager", "-c", "sms"}, []string{"--channel", `"sms"`}},
		{[]string{"notify", "--title", "T", "-g", "manager", "--body", "B", "-f", "x.txt"}, []string{"--body and --file can't be used together"}},
		{[]string{"notify", "-g", "manager"}, []string{"--title"}},
		{[]string{"notify", "--title", "T", "--nope"}, []string{"unknown flag --nope"}},
		{[]string{"events", "list", "--status", "done"}, []string{"--status"}},
		{[]string{"events", "list", "--context", ":42"}, []string{"--context:"}},
		{[]string{"events", "cancel"}, []string{"give the id of the event to cancel", "cloche events cancel --help"}},
		{[]string{"events", "cancel", "3", "--context", "invoice:42"}, []string{"not both"}},
		{[]string{"events", "show", "abc"}, []string{"<id>"}},
		{[]string{"inbox", "postpone", "1", "2", "--until", "later"}, []string{"--until:"}},
		{[]string{"inbox", "1", "--channel", "email"}, []string{"--channel"}},
		{[]string{"types", "set", "k", "--default-channel", "pigeon"}, []string{"--default-channel"}},
		{[]string{"frobnicate"}, []string{"unexpected argument frobnicate"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := h.fails(2, tc.args, tc.want...)
			if r.stdout != "" {
				t.Errorf("stdout should be empty on a usage error: %q", r.stdout)
			}
		})
	}
}

func TestServiceErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		h.fails(1, []string{"notify", "-k", "invoice:overdue", "--title", "T", "-g", "manager"},
			"key: unknown notification type \"invoice:overdue\"", "cloche types set invoice:overdue")
		h.fails(1, []string{"notify", "-k", "message:internal", "--title", "  ", "-g", "manager"}, "title: must not be empty", "flags to fix: --title")
		h.fails(1, []string{"notify", "--title", "T"}, "recipients:", "-g/--group")
		h.fails(1, []string{"notify", "--title", "T", "-g", "manager", "--until", "2001-01-01"}, "until: is in the past")
		h.fails(1, []string{"notify", "--title", "T", "-g", "manager", "--check-url", "ftp://x"}, "check_url:")
		h.fails(1, []string{"events", "show", "999"}, "not found")
		h.fails(1, []string{"types", "set", "new:type"}, "default_channel: is required")
		h.fails(1, []string{"directory", "show", "404"}, "not found")
		h.fails(1, []string{"directory", "import", h.file("bad.json", `{"users": [{"id": 1, "email": "nope"}]}`)}, "users[0].email")
		h.fails(1, []string{"types", "delete", "no:such"}, "not found")
	})
}

func TestScheduleListCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		due := time.Now().Add(time.Hour).Truncate(time.Second)
		out := h.ok("notify", "-k", "workshop:reminder", "--title", "Workshop", "-g", "manager",
			"--from", due.Format(time.RFC3339), "--context", "workshop:7")
		paris, _ := time.LoadLocation("Europe/Paris")
		want := fmt.Sprintf("scheduled for %s on message", due.In(paris).Format(timeLayout))
		if !strings.Contains(out, want) {
			t.Fatalf("notify printed %q, want %q", out, want)
		}
		var evs []cloche.Event
		h.json(&evs, "events", "list", "--status", "pending")
		if len(evs) != 1 || evs[0].Title != "Workshop" || evs[0].DueAt == nil || !evs[0].DueAt.Equal(due) {
			t.Fatalf("pending events: %+v", evs)
		}
		id := fmt.Sprint(evs[0].ID)
		if table := h.ok("events", "list", "--status", "pending"); !strings.Contains(table, "workshop:7") {
			t.Errorf("events list --status pending:\n%s", table)
		}
		if got := h.ok("events", "cancel", id); !strings.Contains(got, "event "+id+" cancelled") {
			t.Errorf("events cancel printed %q", got)
		}
		if got := h.ok("events", "list", "--status", "pending"); !strings.Contains(got, "no events") {
			t.Errorf("still pending:\n%s", got)
		}
		show := h.ok("events", "show", id)
		for _, w := range []string{"cancelled: cancelled by id", "groups manager", "workshop:7"} {
			if !strings.Contains(show, w) {
				t.Errorf("events show lacks %q:\n%s", w, show)
			}
		}
		h.fails(1, []string{"events", "cancel", id}, "cloche: event "+id+" is already cancelled")

		// By context, with a local datetime, and a replacement on the way.
		h.ok("notify", "-k", "workshop:reminder", "--title", "A", "-g", "manager", "--from", "2099-12-05 12:00", "--context", "workshop:8")
		r := h.run("notify", "-k", "workshop:reminder", "--title", "B", "-g", "manager", "--from", "2099-12-05", "--context", "workshop:8")
		if r.code != 0 || !strings.Contains(r.stdout, "scheduled for 2099-12-05 00:00:00 +01:00") || !strings.Contains(r.stderr, "replaced pending event") {
			t.Fatalf("replacement: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got := h.ok("events", "cancel", "--context", "workshop:8", "-k", "workshop:reminder"); !strings.Contains(got, "1 event cancelled") {
			t.Errorf("cancel by context printed %q", got)
		}
		if got := h.ok("events", "cancel", "--context", "workshop:8"); !strings.Contains(got, "no pending event about workshop:8") {
			t.Errorf("second cancel by context printed %q", got)
		}
	})
}

func TestTypes(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	out := h.ok("types", "set", "invoice:overdue", "--label", "Invoice overdue", "--default-channel", "header_message", "--status-type", "caution")
	if !strings.Contains(out, "invoice:overdue") {
		t.Errorf("types set printed %q", out)
	}
	list := h.ok("types", "list")
	var row string
	for line := range strings.SplitSeq(list, "\n") {
		if strings.HasPrefix(line, "invoice:overdue ") {
			row = line
		}
	}
	if f := strings.Fields(row); len(f) != 6 || f[3] != "header_message" || f[4] != "caution" || f[5] != "no" {
		t.Errorf("types list row %q\n%s", row, list)
	}
	if !strings.HasPrefix(list, "KEY") || !strings.Contains(list, "message:internal") {
		t.Errorf("types list:\n%s", list)
	}
	// Changing one field keeps the others.
	var ty cloche.NotificationType
	h.json(&ty, "types", "set", "invoice:overdue", "--default-channel", "email")
	if ty.Label != "Invoice overdue" || ty.StatusType != "caution" || ty.DefaultChannel != cloche.ChannelEmail {
		t.Errorf("types set kept %+v", ty)
	}
	h.ok("types", "delete", "invoice:overdue")
	if strings.Contains(h.ok("types", "list"), "invoice:overdue") {
		t.Error("type still listed after delete")
	}
	h.ok("notify", "-k", "message:internal", "--title", "T", "-g", "manager")
	h.fails(1, []string{"types", "delete", "message:internal"}, `type "message:internal" is used by 1 event; it cannot be deleted`)
}

func TestInboxCommands(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.importDirectory()
	var ids []int64
	for i := range 3 {
		var res cloche.Result
		h.json(&res, "notify", "-k", "message:internal", "--title", fmt.Sprintf("N%d", i), "--body", "line one\nline two", "-u", "1")
		ids = append(ids, res.EventID)
	}
	var page cloche.InboxPage
	h.json(&page, "inbox", "1", "--limit", "2")
	if len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first page: %+v", page)
	}
	out := h.ok("inbox", "1", "--limit", "2")
	if !strings.Contains(out, "next page: --cursor "+page.Next) || strings.Contains(out, "line two") {
		t.Errorf("inbox page 1:\n%s", out)
	}
	if got := h.ok("inbox", "1", "--limit", "2", "--cursor", page.Next); !strings.Contains(got, "N0") || strings.Contains(got, "next page") {
		t.Errorf("inbox page 2:\n%s", got)
	}
	first := fmt.Sprint(page.Items[0].ID)
	if got := h.ok("inbox", "read", "1", first); got != "notification "+first+" marked read\n" {
		t.Errorf("inbox read printed %q", got)
	}
	if got := h.ok("inbox", "1"); strings.Contains(got, "N2") {
		t.Errorf("read notification still listed:\n%s", got)
	}
	if got := h.ok("inbox", "--all", "1"); !strings.Contains(got, "N2") || !strings.Contains(got, " read ") {
		t.Errorf("inbox --all:\n%s", got)
	}
	h.ok("inbox", "unread", "1", first)
	if got := h.ok("directory", "show", "1"); !strings.Contains(got, "message 3") {
		t.Errorf("unread count after unread:\n%s", got)
	}
	if got := h.ok("inbox", "postpone", "1", first, "--until", "2099-01-01 08:00"); !strings.Contains(got, "hidden until 2099-01-01 08:00:00 +01:00") {
		t.Errorf("postpone printed %q", got)
	}
	if got := h.ok("inbox", "1"); strings.Contains(got, "N2") {
		t.Errorf("postponed notification listed:\n%s", got)
	}
	if got := h.ok("inbox", "read-all", "1"); got != "2 notifications marked read\n" {
		t.Errorf("read-all printed %q", got)
	}
	if got := h.ok("inbox", "1"); !strings.Contains(got, "no unread notifications") {
		t.Errorf("after read-all:\n%s", got)
	}
	h.fails(1, []string{"inbox", "read", "2", first}, "not found")
}

func TestNotifyHelpMentionsEveryFlag(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	r := h.run("notify", "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, flag := range []string{"-k, --key", "--title", "--body", "-f, --file", "-g, --group", "-u, --user", "--company",
		"--follower-of", "--account-type", "-c, --channel", "--from", "--until", "--context", "--check-url",
		"--url", "--action", "--callback", "--event-key", "--filename", "--groups", "--uids", "--database-url", "--config", "--json"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("notify --help does not mention %s", flag)
		}
	}
	if n := strings.Count(r.stdout, "Example:"); n != 18 {
		t.Errorf("notify --help has %d examples, want one per flag (18)", n)
	}
	if r := h.run(); r.code != 2 || !strings.Contains(r.stdout, "Usage: cloche <command>") {
		t.Errorf("bare cloche: exit %d\n%s", r.code, r.stdout)
	}
	for _, args := range [][]string{{"--help"}, {"inbox", "--help"}, {"events", "cancel", "--help"}} {
		if r := h.run(args...); r.code != 0 || !strings.Contains(r.stdout, "Usage: cloche") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stdout)
		}
	}
}

func TestServe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory() // migrates before serve starts

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stderr := newWatchWriter("cloche serving")
		done := make(chan int, 1)
		go func() {
			var stdout strings.Builder
			done <- Main(ctx, []string{"serve"}, strings.NewReader(""), &stdout, stderr, h.env)
		}()
		select {
		case <-stderr.seen:
		case code := <-done:
			t.Fatalf("serve ended with %d before serving:\n%s", code, stderr)
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not start:\n%s", stderr)
		}

		var res cloche.Result
		// Due in an hour, made due once notify has answered: however slow
		// the machine, the event waits for serve.
		due := time.Now().Add(time.Hour)
		h.json(&res, "notify", "-k", "message:internal", "--title", "Soon", "-u", "1", "--from", due.Format(time.RFC3339Nano))
		if res.Status != cloche.EventPending {
			t.Fatalf("notify: %+v, want pending", res)
		}
		madeDue := time.Now()
		testdb.MakeDue(t, h.databaseURL(), res.EventID)
		var ev cloche.Event
		waitFor(t, 60*time.Second, "serve to publish the event", func() bool {
			h.json(&ev, "events", "show", fmt.Sprint(res.EventID))
			return ev.Status != cloche.EventPending
		})
		if ev.Status != cloche.EventPublished || ev.PublishedAt == nil || ev.PublishedAt.Before(madeDue.Truncate(time.Millisecond)) {
			t.Errorf("event %+v, want published after %v", ev, madeDue)
		}
		if got := h.ok("inbox", "1"); !strings.Contains(got, "Soon") {
			t.Errorf("inbox 1:\n%s", got)
		}

		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, stderr)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("serve did not stop:\n%s", stderr)
		}
		for _, want := range []string{"cloche serving", "backend=" + backendOf(h), "cloche stopped"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("serve logs lack %q:\n%s", want, stderr)
			}
		}
	})
}

func backendOf(h *harness) string {
	if strings.Contains(strings.Join(h.env, " "), "postgres://") {
		return "postgres"
	}
	return "sqlite"
}

func TestConfigAndDatabaseURL(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, dir: t.TempDir()}
	// The flag beats the file, the file names the database otherwise.
	fromFile := "sqlite:" + h.dir + "/file.db"
	cfgPath := h.file("cloche.toml", fmt.Sprintf("database_url = %q\ntime_zone = \"UTC\"\n", fromFile))
	if got := h.ok("migrate", "--config", cfgPath); got != "migrations applied (sqlite)\n" {
		t.Errorf("migrate printed %q", got)
	}
	h.env = []string{"CLOCHE_CONFIG=" + cfgPath}
	h.ok("types", "set", "only:in-file", "--default-channel", "message")
	if !strings.Contains(h.ok("types", "list"), "only:in-file") {
		t.Error("CLOCHE_CONFIG not read")
	}
	other := "sqlite:" + h.dir + "/flag.db"
	h.ok("migrate", "--database-url", other)
	if strings.Contains(h.ok("types", "list", "--database-url", other), "only:in-file") {
		t.Error("--database-url did not override the file")
	}
	h.fails(1, []string{"types", "list", "--config", h.dir + "/missing.toml"}, "missing.toml")
	h.env = []string{"CLOCHE_DATABASE_URL=" + other, "CLOCHE_LOG__LEVEL=loud"}
	h.fails(1, []string{"types", "list"}, "log.level")

	// An unreachable database is reported without its password.
	h.env = nil
	r := h.fails(1, []string{"migrate", "--database-url", "postgres://cloche:s3cret@127.0.0.1:1/cloche?sslmode=disable"}, "127.0.0.1")
	if strings.Contains(r.stderr, "s3cret") {
		t.Errorf("password shown: %s", r.stderr)
	}
}

func TestCanceledContext(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.ok("migrate")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := h.runCtx(ctx, "", "types", "list")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "cloche: interrupted: ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDeliveries(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.importDirectory()
	out := h.ok("notify", "-k", "message:internal", "--title", "Mail", "-c", "email", "-g", "manager")
	if !strings.Contains(out, "published on email: 2 addresses reached") {
		t.Errorf("notify -c email printed %q", out)
	}
	var res cloche.Result
	h.json(&res, "notify", "-k", "task:status:valid", "--title", "Company", "--company", "10")
	if res.Channel != cloche.ChannelEmail || res.Reached[cloche.ChannelEmail] != 1 {
		t.Errorf("company e-mail: %+v", res)
	}
	list := h.ok("deliveries", "list", "--event", fmt.Sprint(res.EventID))
	if !strings.Contains(list, "nord@example.org") || !strings.Contains(list, "company 10") || strings.Contains(list, "alice@") {
		t.Errorf("deliveries list --event:\n%s", list)
	}
	if all := h.ok("deliveries", "list"); strings.Count(all, "@example.org") != 3 {
		t.Errorf("deliveries list:\n%s", all)
	}
	if got := h.ok("deliveries", "list", "--status", "failed"); !strings.Contains(got, "no deliveries") {
		t.Errorf("deliveries list --status failed:\n%s", got)
	}
}

func TestServeDemo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		// run serves with --demo; while it serves, it calls during with
		// what was logged so far.
		run := func(during func(logs string)) string {
			t.Helper()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stderr := newWatchWriter("cloche serving")
			done := make(chan int, 1)
			go func() {
				var stdout strings.Builder
				done <- Main(ctx, []string{"serve", "--demo"}, strings.NewReader(""), &stdout, stderr, h.env)
			}()
			select {
			case <-stderr.seen:
			case code := <-done:
				t.Fatalf("serve --demo ended with %d before serving:\n%s", code, stderr)
			case <-time.After(30 * time.Second):
				t.Fatalf("serve --demo did not start:\n%s", stderr)
			}
			if during != nil {
				during(stderr.String())
			}
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve --demo exited %d:\n%s", code, stderr)
				}
			case <-time.After(40 * time.Second):
				t.Fatalf("serve --demo did not stop:\n%s", stderr)
			}
			return stderr.String()
		}
		logs := run(func(logs string) {
			// The log says where the console and the demo page are, and
			// they are there, with the widget.
			demoURL := regexp.MustCompile(`demo="?(http://127\.0\.0\.1:\d+/demo\?user=1)`).FindStringSubmatch(logs)
			consoleURL := regexp.MustCompile(`console=(http://127\.0\.0\.1:\d+/console/)`).FindStringSubmatch(logs)
			if demoURL == nil || consoleURL == nil {
				t.Fatalf("serve --demo does not log the URLs of the console and the demo page:\n%s", logs)
			}
			for _, u := range []string{demoURL[1], consoleURL[1], strings.TrimSuffix(consoleURL[1], "/console/") + "/widget/cloche.js"} {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || len(body) == 0 {
					t.Errorf("GET %s: %d", u, resp.StatusCode)
				}
				if u == demoURL[1] && !strings.Contains(string(body), "<cloche-bell") {
					t.Errorf("the demo page has no bell:\n%s", body)
				}
			}
		})
		for _, want := range []string{"demo directory loaded", "companies=4", "users=12", "console_password="} {
			if !strings.Contains(logs, want) {
				t.Errorf("serve --demo logs lack %q:\n%s", want, logs)
			}
		}
		if got := h.ok("directory", "show", "16"); !strings.Contains(got, "Karima Benali") {
			t.Errorf("directory show 16 after serve --demo:\n%s", got)
		}
		// A second start loads it again, without error or duplicates; with
		// a password configured, none is made up.
		h.env = append(h.env, "CLOCHE_CONSOLE__ADMIN_PASSWORD=a configured password")
		if logs := run(nil); strings.Contains(logs, "console_password") {
			t.Errorf("serve --demo with a configured password logged one:\n%s", logs)
		}
		if got := h.ok("directory", "show", "13"); !strings.Contains(got, "Hugo Moreau") {
			t.Errorf("directory show 13 after the second start:\n%s", got)
		}
	})
}
