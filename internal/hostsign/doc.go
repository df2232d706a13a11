// Package hostsign signs the requests Cloche makes to its host application
// (an event's check_url at due time, an action's callback when a person
// presses its button), so that the host can tell them from anyone else's.
//
// A signed request carries two headers:
//
//	Cloche-Timestamp: 1764769200
//	Cloche-Signature: v1=5257a869…
//
// where the signature is the hexadecimal HMAC-SHA256, keyed with the
// signing secret, of the timestamp (seconds since 1970), a full stop, and
// the request body, byte for byte. A host checks it by computing the same
// and comparing in constant time, and refuses timestamps too far from its
// clock (Verify does both, for Go hosts and for tests).
package hostsign
