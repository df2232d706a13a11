package cli

import (
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cloche/cloche"
)

// notifyCmd is enDI's `notify` command. enDI's own spellings (--groups,
// --uids, --event-key, --filename) are accepted as aliases.
type notifyCmd struct {
	Key         string          `short:"k" aliases:"event-key" default:"message:system" placeholder:"KEY" help:"Notification type key; it picks the default channel (see 'cloche types list'; default ${default}). enDI spelling: --event-key. Example: -k message:internal"`
	Title       string          `required:"" placeholder:"TEXT" help:"Title (required). Example: --title \"Invoice 42 paid\""`
	Body        string          `xor:"body" placeholder:"TEXT" help:"Body text. Example: --body \"The customer paid invoice 42.\""`
	File        string          `short:"f" xor:"body" aliases:"filename" placeholder:"FILE" help:"Read the body from FILE ('-': standard input) instead of --body. enDI spelling: --filename. Example: -f message.txt"`
	Group       listFlag        `short:"g" aliases:"groups" placeholder:"GROUP" help:"Send to the members of a group; repeat, separate with commas or spaces. enDI spelling: --groups. Example: -g manager,admin"`
	User        listFlag        `short:"u" aliases:"uids" placeholder:"USER_ID" help:"Send to a user by id; repeat, separate with commas or spaces. enDI spelling: --uids. Example: --uids 12 15"`
	Company     string          `placeholder:"COMPANY_ID" help:"Send to a company: its own address for e-mail, else every active member. Example: --company 10"`
	FollowerOf  string          `name:"follower-of" placeholder:"USER_ID" help:"Send to the follower of this person (the fallback groups if none). Example: --follower-of 3"`
	AccountType string          `name:"account-type" placeholder:"TYPE" help:"Send to the active people of an account type: entrepreneur or equipe_appui (each with the hybride ones), hybride, another type of yours, or all (everybody). Example: --account-type entrepreneur"`
	Channel     *cloche.Channel `short:"c" enum:"${channels}" placeholder:"CHANNEL" help:"Force the channel instead of the type's default (${enum}). Example: -c email"`
	From        string          `placeholder:"DATETIME" help:"Schedule for this due datetime instead of now: ${datetime_forms}. Example: --from \"2026-12-05 09:00\""`
	Until       string          `placeholder:"DATETIME" help:"Expiry: not published, nor shown, after this datetime (same forms as --from). Example: --until 2026-12-31"`
	Context     string          `placeholder:"TYPE:ID" help:"The object the notification is about; a new one replaces a pending one of the same context and key, and 'cloche events cancel --context' cancels them. Example: --context invoice:42"`
	CheckURL    string          `name:"check-url" placeholder:"URL" help:"POSTed the event at due time: a 2xx answer sends it (unless its body is {\"send\": false}), 404 or 410 drops it, anything else is retried. Example: --check-url https://erp.example.org/check/42"`
	URL         string          `name:"url" placeholder:"URL" help:"What the notification leads to (http or https): the widget opens it when the person clicks the item, the e-mail links to it. Example: --url https://erp.example.org/invoices/42"`
	Action      []string        `name:"action" sep:"none" placeholder:"LABEL=URL" help:"A button that opens URL; repeat for more (at most three buttons with --callback). Example: --action \"Voir=https://erp.example.org/invoices/42\""`
	Callback    []string        `name:"callback" sep:"none" placeholder:"LABEL=URL" help:"A button that has Cloche POST to the host's URL, signed like check_url, when pressed; after the --action ones. Example: --callback \"Valider=https://erp.example.org/hooks/validate/42\""`
	Attach      listFlag        `sep:"none" placeholder:"FILE" help:"Attach FILE to every e-mail of the event (its type from its extension); repeat or list several after it. Example: --attach facture-42.pdf"`
}

func (c *notifyCmd) Help() string {
	return `Examples:
  cloche notify -k message:internal --title "Hello" --body "Welcome" -g manager,admin
  cloche notify --event-key task:status:valid --title "Task validated" --uids 12 --filename body.txt
  cloche notify -k activity:reminder --title "Workshop tomorrow" --company 10 --from "2026-12-04 09:00" --context workshop:7
  cloche notify -k message:internal --title "Assemblée générale" --account-type entrepreneur
  cloche notify -k message:internal --title "Facture 42 validée" -u 12 --url https://erp.example.org/invoices/42 \
    --action "Voir=https://erp.example.org/invoices/42" --callback "Payer=https://erp.example.org/hooks/pay/42"`
}

func (c *notifyCmd) Run(rt *runtime) error {
	loc, err := rt.location()
	if err != nil {
		return err
	}
	n := cloche.Notification{Key: c.Key, Title: c.Title, Body: c.Body, CheckURL: c.CheckURL, URL: c.URL}
	if n.Actions, err = parseActionFlags(c.Action, c.Callback); err != nil {
		return err
	}
	if n.DueAt, err = optionalDatetime("--from", c.From, loc); err != nil {
		return err
	}
	if n.Until, err = optionalDatetime("--until", c.Until, loc); err != nil {
		return err
	}
	if n.Context, err = parseContextFlag(c.Context); err != nil {
		return err
	}
	if c.File != "" {
		if n.Body, err = readBody(c.File, rt.stdin); err != nil {
			return err
		}
	}
	if n.Attachments, err = readAttachments(c.Attach); err != nil {
		return err
	}
	r := cloche.Recipients{
		GroupNames:     trimAll(c.Group),
		UserIDs:        trimAll(c.User),
		CompanyID:      strings.TrimSpace(c.Company),
		FollowerUserID: strings.TrimSpace(c.FollowerOf),
		AccountType:    strings.TrimSpace(c.AccountType),
	}
	var opts []cloche.NotifyOption
	if c.Channel != nil {
		opts = append(opts, cloche.ForceChannel(*c.Channel))
	}

	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	res, err := svc.Notify(rt.ctx, n, r, opts...)
	if err != nil {
		return withNotifyFlags(err)
	}
	rt.notifyWarnings(res)
	if rt.globals.JSON {
		return rt.printJSON(res)
	}
	switch res.Status {
	case cloche.EventPublished:
		rt.printf("event %d published on %s: %s reached", res.EventID, res.Channel, reachedPhrase(res.Channel, res.Reached[res.Channel]))
	case cloche.EventPending:
		rt.printf("event %d scheduled for %s on %s", res.EventID, formatTime(n.DueAt, loc), res.Channel)
	default:
		rt.printf("event %d %s on %s", res.EventID, res.Status, res.Channel)
	}
	return nil
}

// notifyWarnings points out what the sender probably did not mean.
func (rt *runtime) notifyWarnings(res *cloche.Result) {
	for _, line := range res.Report().Lines() {
		rt.warnf("%s", line)
	}
	if len(res.Replaced) > 0 {
		rt.warnf("replaced pending event(s) %s of the same context and key", joinIDs(res.Replaced))
	}
}

// withNotifyFlags adds to err, when the service rejected fields, a line
// naming the flags that set them: the service speaks of API fields
// (group_names, due_datetime), the command line user typed flags.
func withNotifyFlags(err error) error {
	var flags []string
	for _, fe := range cloche.FieldErrors(err) {
		if fe.Hint != "" {
			continue // the service already says what to do
		}
		if f := notifyFlagOf(fe.Field); f != "" && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	if len(flags) == 0 {
		return err
	}
	return fmt.Errorf("%w\nflags to fix: %s", err, strings.Join(flags, "; "))
}

// notifyFlagOf names the notify flag that sets an API field.
func notifyFlagOf(field string) string {
	field, _, _ = strings.Cut(field, "[")
	switch field {
	case "key":
		return "-k/--key"
	case "title":
		return "--title"
	case "body":
		return "--body or -f/--file"
	case "recipients":
		return "-g/--group, -u/--user, --company, --follower-of or --account-type (at least one)"
	case "group_names":
		return "-g/--group"
	case "user_ids":
		return "-u/--user"
	case "account_type":
		return "--account-type"
	case "force_channel":
		return "-c/--channel"
	case "due_datetime":
		return "--from"
	case "until":
		return "--until"
	case "context":
		return "--context"
	case "check_url":
		return "--check-url"
	case "attachments":
		return "--attach"
	case "url":
		return "--url"
	case "actions":
		return "--action or --callback (in that order: actions[0] is the first --action)"
	}
	return ""
}

// parseActionFlags reads --action and --callback values, LABEL=URL each
// (the label may not hold "=", the URL may), url actions first.
func parseActionFlags(urls, callbacks []string) ([]cloche.Action, error) {
	var out []cloche.Action
	for _, f := range []struct {
		name   string
		values []string
	}{{"--action", urls}, {"--callback", callbacks}} {
		for _, v := range f.values {
			label, target, ok := strings.Cut(v, "=")
			if !ok || strings.TrimSpace(label) == "" || strings.TrimSpace(target) == "" {
				return nil, usageErrorf("%s %q: write LABEL=URL, e.g. %s \"Voir=https://erp.example.org/invoices/42\"", f.name, v, f.name)
			}
			a := cloche.Action{Label: label}
			if f.name == "--action" {
				a.URL = target
			} else {
				a.Callback = target
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// readAttachments reads the --attach files; each one's content type comes
// from its extension.
func readAttachments(paths []string) ([]cloche.Attachment, error) {
	var out []cloche.Attachment
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--attach: %w", err)
		}
		out = append(out, cloche.Attachment{Name: filepath.Base(p), ContentType: mime.TypeByExtension(filepath.Ext(p)), Data: data})
	}
	return out, nil
}

// reachedPhrase says how many were reached: users in-app, addresses by
// e-mail.
func reachedPhrase(ch cloche.Channel, n int) string {
	if ch == cloche.ChannelEmail {
		return plural(n, "address", "addresses")
	}
	return plural(n, "user", "users")
}

// readBody reads a body file, or standard input for "-".
func readBody(path string, stdin io.Reader) (string, error) {
	if path == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read body from standard input: %w", err)
		}
		return string(b), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	return string(b), nil
}

// trimAll trims each value and drops empty ones ("-g manager," is fine).
func trimAll(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
