package cli

import (
	"time"
)

// tokenCmd groups the commands about user tokens, which browsers send to
// read one user's notifications.
type tokenCmd struct {
	Mint   tokenMintCmd   `cmd:"" help:"Mint a user token (JWT, HS256) for a user of the directory."`
	Secret tokenSecretCmd `cmd:"" help:"Print the secret that signs user tokens, for a host that mints them itself."`
}

func (c *tokenCmd) Help() string {
	return `A user token is a JWT signed with HS256 whose claims are sub (the user's id,
a string), exp and iat (seconds since 1970). The secret is auth.token_secret
when configured, else one Cloche generated and keeps in the database. In
Python, with PyJWT:

  jwt.encode({"sub": "42", "iat": now, "exp": now + 3600}, secret, algorithm="HS256")`
}

type tokenMintCmd struct {
	UserID string        `arg:"" name:"user-id" help:"The user's id in the host application."`
	TTL    time.Duration `name:"ttl" placeholder:"DURATION" help:"How long the token is valid (default: auth.token_ttl, 1h; at most auth.token_max_ttl, 24h)."`
}

func (c *tokenMintCmd) Run(rt *runtime) error {
	svc, err := rt.openExisting() // for a user of the directory, which must be there
	if err != nil {
		return err
	}
	defer svc.Close()
	tok, exp, err := svc.UserToken(rt.ctx, c.UserID, c.TTL)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			Token     string    `json:"token"`
			UserID    string    `json:"user_id"`
			ExpiresAt time.Time `json:"expires_at"`
		}{tok, c.UserID, exp})
	}
	rt.printf("%s", tok)
	return nil
}

type tokenSecretCmd struct{}

func (c *tokenSecretCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	defer svc.Close()
	secret, err := svc.TokenSecret(rt.ctx)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			Secret    string `json:"secret"`
			Algorithm string `json:"algorithm"`
		}{secret, "HS256"})
	}
	rt.printf("%s", secret)
	return nil
}
