// Package httpapi is Cloche's HTTP API: a router on the standard library's
// method and path patterns under /api/v1, one file per resource, the
// middleware around it (request ids, access logs, panics, timeouts, body
// limits, CORS, rate limits), authentication by API key or user token, one
// mapping from errors to JSON error bodies, health, metrics and the OpenAPI
// document.
package httpapi
