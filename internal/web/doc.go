// Package web is the operators' console: server-rendered pages, under
// /console, to watch and run a Cloche service (dashboard, send form,
// events, notification types, e-mail deliveries, directory).
//
// The console is an http.Handler built from a *cloche.Service. Operators log
// in with the admin password of the configuration, or with an API key
// through a KeyChecker. A login is a signed cookie (HMAC-SHA256, HttpOnly,
// SameSite=Strict, scoped to the console's path, with an expiry; Secure
// over HTTPS); a login opened with an API key names the key, and ends as
// soon as the key is revoked. Every form carries a per-session token,
// checked on every POST together with the request's origin. Failed logins
// are throttled per client address, and the throttle fails closed. Pages are html/template files and one CSS file,
// embedded: there is no JavaScript and no build step.
package web
