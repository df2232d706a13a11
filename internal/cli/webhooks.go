package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// webhooksCmd groups the commands about outgoing webhooks.
type webhooksCmd struct {
	Add    webhooksAddCmd    `cmd:"" help:"Add an outlet: a URL that receives the events of some types."`
	List   webhooksListCmd   `cmd:"" help:"List the outlets, paused ones marked."`
	Remove webhooksRemoveCmd `cmd:"" help:"Remove an outlet."`
	Test   webhooksTestCmd   `cmd:"" help:"Post a test webhook to an outlet and print its answer."`
	Pause  webhooksPauseCmd  `cmd:"" help:"Pause an outlet: it receives nothing until resumed."`
	Resume webhooksResumeCmd `cmd:"" help:"Resume a paused outlet, its failures forgotten."`
}

type webhooksAddCmd struct {
	Name    string   `arg:"" help:"A name for the outlet, e.g. team-chat."`
	URL     string   `arg:"" name:"url" help:"Where the events are posted (http or https)."`
	Format  string   `default:"standard" enum:"standard,chat" help:"standard: JSON signed per the Standard Webhooks specification; chat: {\"text\": …} for Slack or Mattermost."`
	Types   []string `name:"type" required:"" placeholder:"PATTERN" help:"A type the outlet receives: a key (message:system), a category (task:*) or * (repeat the flag for several)."`
	Company []string `placeholder:"ID" help:"Only the events sent to this company (repeatable)."`
	User    []string `placeholder:"ID" help:"Only the events sent to this user (repeatable)."`
	Group   []string `placeholder:"NAME" help:"Only the events sent to this group (repeatable)."`
	Secret  string   `placeholder:"whsec_…" help:"The signing secret (default: a new one, printed)."`
}

func (c *webhooksAddCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	o, err := svc.AddWebhook(rt.ctx, cloche.WebhookInput{Name: c.Name, URL: c.URL, Format: c.Format, Secret: c.Secret,
		Types: c.Types, Recipients: cloche.WebhookRecipients{CompanyIDs: c.Company, UserIDs: c.User, GroupNames: c.Group}})
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(o)
	}
	rt.printf("webhook %d %q added: %s events of %s to %s", o.ID, o.Name, o.Format, strings.Join(o.Types, ", "), o.URL)
	if o.Format == cloche.WebhookStandard {
		rt.printf("signing secret: %s", o.Secret)
	}
	return nil
}

type webhooksListCmd struct{}

func (c *webhooksListCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	os, err := svc.Webhooks(rt.ctx)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(os)
	}
	if len(os) == 0 {
		rt.printf("no webhooks (add one with 'cloche webhooks add NAME URL --type PATTERN')")
		return nil
	}
	loc := svc.Location()
	t := rt.table("ID", "NAME", "FORMAT", "URL", "TYPES", "RECIPIENTS", "STATE", "LAST ERROR")
	for _, o := range os {
		state := "active"
		switch {
		case o.PausedAt != nil:
			state = "paused " + formatTime(o.PausedAt, loc)
		case o.FailingSince != nil:
			state = "failing since " + formatTime(o.FailingSince, loc)
		}
		t.row(o.ID, o.Name, o.Format, o.URL, strings.Join(o.Types, ","), orDash(recipientsText(o.Recipients)), state,
			orDash(truncate(o.LastError, 60)))
	}
	return t.flush()
}

func recipientsText(r cloche.WebhookRecipients) string {
	var parts []string
	for _, id := range r.CompanyIDs {
		parts = append(parts, "company "+id)
	}
	for _, id := range r.UserIDs {
		parts = append(parts, "user "+id)
	}
	for _, g := range r.GroupNames {
		parts = append(parts, "group "+g)
	}
	return strings.Join(parts, ", ")
}

// outletArg is an outlet's id or name.
type outletArg struct {
	Outlet string `arg:"" name:"id-or-name" help:"The outlet's id or name."`
}

func (a outletArg) resolve(rt *runtime, svc *cloche.Service) (*cloche.WebhookOutlet, error) {
	if id, err := strconv.ParseInt(a.Outlet, 10, 64); err == nil {
		return svc.Webhook(rt.ctx, id)
	}
	return svc.WebhookByName(rt.ctx, a.Outlet)
}

type webhooksRemoveCmd struct{ outletArg }

func (c *webhooksRemoveCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	o, err := c.resolve(rt, svc)
	if err != nil {
		return err
	}
	if err := svc.RemoveWebhook(rt.ctx, o.ID); err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(o)
	}
	rt.printf("webhook %d %q removed", o.ID, o.Name)
	return nil
}

type webhooksTestCmd struct{ outletArg }

func (c *webhooksTestCmd) Help() string {
	return `Posts one webhook of type cloche.test to the outlet, paused or not, and
prints its answer. It exits 1 when the outlet cannot be reached or answers
other than 2xx.`
}

func (c *webhooksTestCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	o, err := c.resolve(rt, svc)
	if err != nil {
		return err
	}
	res, err := svc.TestWebhook(rt.ctx, o.ID)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		if err := rt.printJSON(res); err != nil {
			return err
		}
	} else {
		rt.printf("posted to %s (%s)", res.URL, res.Format)
		if res.MessageID != "" {
			rt.printf("webhook-id: %s", res.MessageID)
		}
		if res.Error == "" {
			rt.printf("outlet answered: %d %s", res.Status, res.Response)
		}
	}
	switch {
	case res.Error != "":
		return fmt.Errorf("webhook %q: %s", o.Name, res.Error)
	case !res.OK:
		return errors.New("webhook " + strconv.Quote(o.Name) + ": the outlet answered " + strconv.Itoa(res.Status))
	}
	return nil
}

type webhooksPauseCmd struct{ outletArg }

func (c *webhooksPauseCmd) Run(rt *runtime) error {
	return c.change(rt, func(svc *cloche.Service, id int64) (*cloche.WebhookOutlet, error) {
		return svc.PauseWebhook(rt.ctx, id, "the command line")
	}, "paused")
}

type webhooksResumeCmd struct{ outletArg }

func (c *webhooksResumeCmd) Run(rt *runtime) error {
	return c.change(rt, func(svc *cloche.Service, id int64) (*cloche.WebhookOutlet, error) {
		return svc.ResumeWebhook(rt.ctx, id)
	}, "resumed; retry what failed meanwhile with 'cloche deliveries retry --failed --channel webhook'")
}

// change applies do to the outlet named and prints it, or says it is
// done.
func (a outletArg) change(rt *runtime, do func(*cloche.Service, int64) (*cloche.WebhookOutlet, error), done string) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	o, err := a.resolve(rt, svc)
	if err != nil {
		return err
	}
	if o, err = do(svc, o.ID); err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(o)
	}
	rt.printf("webhook %d %q %s", o.ID, o.Name, done)
	return nil
}
