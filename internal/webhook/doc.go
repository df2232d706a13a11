// Package webhook is the webhook channel of the outbound layer
// (internal/outbound): operators define outlets (a URL, a format, a
// secret, the types and optionally the recipients they receive); each
// published event that matches an outlet queues one delivery to it, in the
// publication's transaction (Hooks.PublishedTx); the layer claims, retries
// and records them, and this package renders and posts them:
//
//   - format "standard": a JSON event signed per the Standard Webhooks
//     specification: headers webhook-id (the delivery's, kept across
//     retries), webhook-timestamp (Unix seconds) and webhook-signature
//     "v1,<base64 of HMAC-SHA256(key, id.timestamp.body)>", the key being
//     the base64 after the secret's "whsec_" prefix (sign.go);
//   - format "chat": {"text": …} for Slack- and Mattermost-style incoming
//     webhooks: the title, the body as text, the first link.
//
// A 2xx answer is sent; 429 is retried no sooner than its Retry-After;
// 408, 5xx, timeouts and connection failures are retried with the
// layer's backoff; any other answer (redirects included) is a permanent
// failure. An outlet whose every attempt failed for the pause window
// (24 h by default) is paused: it receives nothing until resumed; the
// deliveries it was sent then fail as "outlet paused".
package webhook
