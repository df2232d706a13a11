package cli

import (
	"fmt"

	"github.com/cloche/cloche"
)

// deliveriesCmd groups the commands about e-mail deliveries.
type deliveriesCmd struct {
	List deliveriesListCmd `cmd:"" help:"List e-mail deliveries, newest first."`
}

type deliveriesListCmd struct {
	Status *cloche.DeliveryState `enum:"${delivery_states}" placeholder:"STATE" help:"Only deliveries in this state (${enum})."`
	Event  int64                 `placeholder:"ID" help:"Only the deliveries of this event."`
	Limit  int                   `default:"50" help:"At most this many deliveries (up to 1000)."`
	Before int64                 `placeholder:"ID" help:"Only deliveries older than this id (the next page)."`
}

func (c *deliveriesListCmd) Run(rt *runtime) error {
	f := cloche.DeliveryFilter{EventID: c.Event, Limit: c.Limit, BeforeID: c.Before}
	if c.Status != nil {
		f.State = *c.Status
	}
	svc, err := rt.open()
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
	t := rt.table("ID", "EVENT", "ADDRESS", "TO", "STATE", "ATTEMPTS", "UPDATED", "LAST ERROR")
	for _, d := range ds {
		to := "-"
		switch {
		case d.UserID != "":
			to = "user " + d.UserID
		case d.CompanyID != "":
			to = "company " + d.CompanyID
		}
		lastErr := d.LastMessage
		if d.LastCode != 0 {
			lastErr = fmt.Sprintf("%d %s", d.LastCode, d.LastMessage)
		}
		t.row(d.ID, d.EventID, d.Address, to, d.State, d.Attempts, formatTime(&d.UpdatedAt, loc), orDash(truncate(lastErr, 60)))
	}
	return t.flush()
}
