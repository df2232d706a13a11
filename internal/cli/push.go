package cli

// pushCmd groups the commands about browser push.
type pushCmd struct {
	Keys pushKeysCmd `cmd:"" help:"Print the VAPID public key browsers subscribe with (base64url), generating the key pair at first use."`
}

func (c *pushCmd) Help() string {
	return `Browser push signs every push with a VAPID key pair (P-256) that Cloche
generates at first use and keeps in the database, shared by every
"cloche serve" on it. Pushes are sent once push.subject is set (a mailto:
address or an https: URL push services may contact). The widget fetches the
public key itself (GET /api/v1/push/public-key); a host with its own
subscription code passes it as applicationServerKey.`
}

type pushKeysCmd struct{}

func (c *pushKeysCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	key, err := svc.PushPublicKey(rt.ctx)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			PublicKey string `json:"public_key"`
			Subject   string `json:"subject"`
		}{key, svc.Config().Push.Subject})
	}
	rt.printf("%s", key)
	return nil
}
