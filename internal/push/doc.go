// Package push is the browser push channel (Web Push): the server's VAPID
// keys (keys.go), what one push carries and how urgent it is
// (message.go), and a Sender that encrypts each message for its
// subscription (RFC 8291, aes128gcm, through
// github.com/SherClockHolmes/webpush-go), posts it to the push service
// (RFC 8030) with a VAPID token (RFC 8292), and classifies every answer:
// sent, temporary (with the push service's Retry-After), permanent, or
// the subscription gone (404, 410).
package push
