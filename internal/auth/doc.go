// Package auth makes and checks Cloche's two credentials: API keys, which
// host applications send, and user tokens (JWT, HS256), which browsers send
// to read one user's notifications.
package auth
