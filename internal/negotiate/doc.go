// Package negotiate reads what an HTTP client accepts, for the handlers
// that answer in more than one way (gzipped or not).
package negotiate
