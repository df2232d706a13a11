package cli

import (
	"fmt"

	"github.com/cloche/cloche"
)

// apikeyCmd groups the commands about API keys, which host applications
// send to the HTTP API.
type apikeyCmd struct {
	Create apikeyCreateCmd `cmd:"" help:"Create an API key and print it (once: only its hash is kept)."`
	List   apikeyListCmd   `cmd:"" help:"List API keys, revoked ones included."`
	Revoke apikeyRevokeCmd `cmd:"" help:"Revoke an API key: it is refused from then on."`
}

type apikeyCreateCmd struct {
	Name string `arg:"" help:"A name for the key: the host application that uses it, e.g. endi-prod."`
}

func (c *apikeyCreateCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	k, key, err := svc.CreateAPIKey(rt.ctx, c.Name)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			*cloche.APIKey
			Key string `json:"key"`
		}{k, key})
	}
	rt.printf("%s", key)
	fmt.Fprintf(rt.stderr, "cloche: API key %d %q created. It is shown this once: store it now.\n"+
		"cloche: hosts send it as the header  Authorization: Bearer %s…\n", k.ID, k.Name, k.Prefix)
	return nil
}

type apikeyListCmd struct{}

func (c *apikeyListCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	keys, err := svc.APIKeys(rt.ctx)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(nonNil(keys))
	}
	if len(keys) == 0 {
		rt.printf("no API keys (create one with 'cloche apikey create NAME')")
		return nil
	}
	loc := svc.Location()
	t := rt.table("ID", "NAME", "KEY", "CREATED", "LAST USED", "REVOKED")
	for _, k := range keys {
		t.row(k.ID, k.Name, k.Prefix+"…", formatTime(&k.CreatedAt, loc), formatTime(k.LastUsedAt, loc), formatTime(k.RevokedAt, loc))
	}
	return t.flush()
}

type apikeyRevokeCmd struct {
	Key string `arg:"" name:"id-or-name" help:"The key's id, or the name of an active key."`
}

func (c *apikeyRevokeCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting()
	if err != nil {
		return err
	}
	defer svc.Close()
	k, err := svc.RevokeAPIKey(rt.ctx, c.Key)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(k)
	}
	rt.printf("API key %d %q revoked", k.ID, k.Name)
	return nil
}
