package cli

import (
	"fmt"
	"time"

	"github.com/cloche/cloche"
)

// deliveriesCmd groups the commands about the deliveries of the outbound
// channels (e-mail, push, webhooks).
type deliveriesCmd struct {
	List  deliveriesListCmd  `cmd:"" help:"List deliveries (e-mail, push, webhook), newest first."`
	Show  deliveriesShowCmd  `cmd:"" help:"Show every field of one delivery, with the server's last answer."`
	Retry deliveriesRetryCmd `cmd:"" help:"Queue a failed delivery again, or every failed one (--failed)."`
}

type deliveriesListCmd struct {
	Channel string                `placeholder:"CHANNEL" help:"Only the deliveries of this channel (email, push, webhook)."`
	Status  *cloche.DeliveryState `enum:"${delivery_states}" placeholder:"STATE" help:"Only deliveries in this state (${enum})."`
	Event   int64                 `placeholder:"ID" help:"Only the deliveries of this event."`
	Limit   int                   `default:"50" help:"At most this many deliveries (up to 1000)."`
	Before  int64                 `placeholder:"ID" help:"Only deliveries older than this id (the next page)."`
}

func (c *deliveriesListCmd) Run(rt *runtime) error {
	f := cloche.DeliveryFilter{Channel: c.Channel, EventID: c.Event, Limit: c.Limit, BeforeID: c.Before}
	if c.Status != nil {
		f.State = *c.Status
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	ds, err := svc.Deliveries(rt.ctx, f)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(nonNil(ds))
	}
	if len(ds) == 0 {
		rt.printf("no deliveries")
		return nil
	}
	loc := svc.Location()
	t := rt.table("ID", "EVENT", "CHANNEL", "ADDRESS", "TO", "STATE", "ATTEMPTS", "UPDATED", "NEXT ATTEMPT", "LAST ANSWER")
	now := time.Now()
	for _, d := range ds {
		state, next := string(d.State), d.NextAttemptAt
		if d.State == cloche.DeliveryQueued && d.NotBefore != nil && d.NotBefore.After(now) {
			// Held: quiet hours, or waiting for the notification to be read.
			state, next = state+" (held: "+d.HoldReason+")", d.NotBefore
		}
		t.row(d.ID, d.EventID, d.Channel, d.Address, deliveryTo(&d), state, d.Attempts, formatTime(&d.UpdatedAt, loc),
			formatTime(next, loc), orDash(truncate(lastAnswer(&d), 60)))
	}
	return t.flush()
}

// deliveryTo names who a delivery is for.
func deliveryTo(d *cloche.Delivery) string {
	switch {
	case d.UserID != "":
		return "user " + d.UserID
	case d.CompanyID != "":
		return "company " + d.CompanyID
	}
	return "-"
}

// lastAnswer is the mail server's last answer ("451 4.3.0 Try later"),
// or the error when there was no answer.
func lastAnswer(d *cloche.Delivery) string {
	if d.LastCode != 0 {
		return fmt.Sprintf("%d %s", d.LastCode, d.LastMessage)
	}
	return d.LastMessage
}

type deliveriesShowCmd struct {
	ID int64 `arg:"" help:"Delivery id."`
}

func (c *deliveriesShowCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	d, err := svc.Delivery(rt.ctx, c.ID)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(d)
	}
	loc := svc.Location()
	return rt.fields(
		[2]string{"id", fmt.Sprint(d.ID)},
		[2]string{"event", fmt.Sprint(d.EventID)},
		[2]string{"channel", d.Channel},
		[2]string{"target", d.Target},
		[2]string{"address", d.Address},
		[2]string{"to", deliveryTo(d)},
		[2]string{"reason", orDash(d.Reason)},
		[2]string{"state", string(d.State)},
		[2]string{"attempts", fmt.Sprint(d.Attempts)},
		[2]string{"last answer", orDash(lastAnswer(d))},
		[2]string{"message id", orDash(d.MessageID)},
		[2]string{"created", formatTime(&d.CreatedAt, loc)},
		[2]string{"last attempt", formatTime(d.LastAttemptAt, loc)},
		[2]string{"next attempt", formatTime(d.NextAttemptAt, loc)},
		[2]string{"sent", formatTime(d.SentAt, loc)},
		[2]string{"updated", formatTime(&d.UpdatedAt, loc)},
	)
}

type deliveriesRetryCmd struct {
	ID      int64  `arg:"" optional:"" help:"Id of the failed (or retrying) delivery to send again."`
	Failed  bool   `help:"Queue every failed delivery again instead."`
	Channel string `placeholder:"CHANNEL" help:"With --failed: only the failed deliveries of this channel (email, push, webhook)."`
	Event   int64  `placeholder:"ID" help:"With --failed: only the failed deliveries of this event."`
}

func (c *deliveriesRetryCmd) Help() string {
	return `A retried delivery is queued with a fresh count of attempts; its last
answer stays on record until the next attempt. A running 'cloche serve'
with a mail server sends it.`
}

// retriedMany is the JSON answer of retry --failed.
type retriedMany struct {
	Retried int `json:"retried"`
}

func (c *deliveriesRetryCmd) Run(rt *runtime) error {
	switch {
	case c.ID != 0 && c.Failed:
		return usageErrorf("give a delivery id or --failed, not both")
	case c.ID == 0 && !c.Failed:
		return usageErrorf("give a delivery id, or --failed for every failed delivery")
	case c.Event != 0 && !c.Failed:
		return usageErrorf("--event goes with --failed")
	case c.Channel != "" && !c.Failed:
		return usageErrorf("--channel goes with --failed")
	}
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	if (c.Channel == "" || c.Channel == "email") && !svc.EmailConfigured() {
		rt.warnf("no mail server is configured here (smtp.host): a 'cloche serve' that has one will send it")
	}
	if c.Failed {
		n, err := svc.RetryFailedDeliveriesOf(rt.ctx, c.Channel, c.Event)
		if err != nil {
			return err
		}
		if rt.globals.JSON {
			return rt.printJSON(retriedMany{Retried: n})
		}
		rt.printf("%s queued again", plural(n, "failed delivery", "failed deliveries"))
		return nil
	}
	d, err := svc.RetryDelivery(rt.ctx, c.ID)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(d)
	}
	rt.printf("delivery %d to %s queued again", d.ID, d.Address)
	return nil
}
