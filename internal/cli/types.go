package cli

import (
	"time"

	"github.com/cloche/cloche"
)

// typesCmd groups the commands about notification types.
type typesCmd struct {
	List   typesListCmd   `cmd:"" help:"List the notification types."`
	Set    typesSetCmd    `cmd:"" help:"Create a notification type, or change one."`
	Delete typesDeleteCmd `cmd:"" help:"Delete a notification type that no event uses."`
}

type typesListCmd struct{}

func (c *typesListCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	ts, err := svc.Types(rt.ctx)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(nonNil(ts))
	}
	t := rt.table("KEY", "LABEL", "DEFAULT CHANNEL", "STATUS TYPE", "BUILTIN")
	for _, ty := range ts {
		builtin := "no"
		if ty.Builtin {
			builtin = "yes"
		}
		t.row(ty.Key, ty.Label, ty.DefaultChannel, ty.StatusType, builtin)
	}
	return t.flush()
}

type typesSetCmd struct {
	Key            string             `arg:"" help:"Type key, e.g. invoice:overdue."`
	Label          string             `placeholder:"TEXT" help:"Human name (default: the current one, or the key for a new type)."`
	DefaultChannel *cloche.Channel    `name:"default-channel" enum:"${channels}" placeholder:"CHANNEL" help:"Channel used unless the sender forces one (${enum}); required for a new type."`
	StatusType     *cloche.StatusType `name:"status-type" enum:"${status_types}" placeholder:"STATUS" help:"Visual mark (${enum}; default: the current one, or neutral)."`
	Mandatory      *bool              `name:"mandatory" negatable:"" help:"Make the type mandatory: its default channel cannot be turned off by a preference (--no-mandatory: not; default: as it is)."`
	EmailIfUnread  string             `name:"email-if-unread" placeholder:"DURATION" help:"E-mail people who also get the type in the app only if it is still unread after this long, e.g. 30m (0: at once; default: as it is)."`
}

func (c *typesSetCmd) Run(rt *runtime) error {
	in := cloche.NotificationType{Key: c.Key, Label: c.Label}
	if c.DefaultChannel != nil {
		in.DefaultChannel = *c.DefaultChannel
	}
	if c.StatusType != nil {
		in.StatusType = *c.StatusType
	}
	var opts []cloche.TypeOption
	if c.Mandatory != nil {
		opts = append(opts, cloche.Mandatory(*c.Mandatory))
	}
	if c.EmailIfUnread != "" {
		m, err := parseMinutes(c.EmailIfUnread)
		if err != nil {
			return usageErrorf("--email-if-unread: %v", err)
		}
		opts = append(opts, cloche.EmailIfUnread(m))
	}
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	ty, err := svc.SetType(rt.ctx, in, opts...)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(ty)
	}
	rt.printf("type %s: %q, default channel %s, status type %s", ty.Key, ty.Label, ty.DefaultChannel, ty.StatusType)
	if ty.EmailIfUnreadMinutes > 0 {
		rt.printf("e-mail only if unread after %s", time.Duration(ty.EmailIfUnreadMinutes)*time.Minute)
	}
	return nil
}

type typesDeleteCmd struct {
	Key string `arg:"" help:"Type key."`
}

func (c *typesDeleteCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := svc.DeleteType(rt.ctx, c.Key); err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			Deleted string `json:"deleted"`
		}{c.Key})
	}
	rt.printf("type %s deleted", c.Key)
	return nil
}
