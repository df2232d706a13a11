// Package client is a Go client of Cloche's HTTP API, for host
// applications. It depends on the standard library only.
//
//	c, err := client.New("http://127.0.0.1:8080", apiKey)
//	res, err := c.Notify(ctx, client.Notification{
//		Key: "message:internal", Title: "Invoice 42 paid", UserIDs: []string{"7"},
//	}, client.IdempotencyKey("invoice-42-paid"))
//
// A host hands its pages a user token (c.UserToken); a client made with a
// user token reads that user's notifications through c.Me().
//
// Errors of the API are *Error values; test them with errors.Is against
// ErrNotFound, ErrConflict, ErrInvalid, ErrUnauthorized, ErrForbidden,
// ErrRateLimited, ErrTooLarge and ErrUnavailable.
package client
