package cli

// emailCmd groups the commands about the mail server.
type emailCmd struct {
	Test emailTestCmd `cmd:"" help:"Send a test message and print what the mail server answered."`
}

type emailTestCmd struct {
	Address string `arg:"" help:"Where to send the test message."`
}

func (c *emailTestCmd) Help() string {
	return `Sends one message through the configured mail server ([smtp] settings),
on a connection of its own, and prints the server's answer. It exits 1 when
the server cannot be reached or refuses the message, with its answer.`
}

func (c *emailTestCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	res, err := svc.SendTestEmail(rt.ctx, c.Address)
	if err != nil {
		if res != nil {
			rt.warnf("through %s (%s), from %s", res.Server, res.TLS, res.From)
		}
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(res)
	}
	rt.printf("sent to %s through %s (%s), from %s", res.To, res.Server, res.TLS, res.From)
	rt.printf("server answered: 250 %s", res.Response)
	rt.printf("message id: <%s>", res.MessageID)
	return nil
}
