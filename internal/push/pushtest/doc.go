// Package pushtest runs a push service (RFC 8030) on 127.0.0.1 for tests
// and benchmarks, and plays the browsers subscribed to it: each
// subscription has its own P-256 key pair and auth secret, and every push
// received is decrypted with them (RFC 8291, aes128gcm, written here
// independently of the sender's library) and its VAPID token checked
// (RFC 8292: ES256 signature by the key it names, audience, expiry,
// subject). A test chooses the answer to each push (201, 404, 410, 429
// with Retry-After, 5xx).
package pushtest
