// Package inboxcache keeps the answers of users' most frequent inbox reads
// (unread counts, first pages) in memory, so that a page polling them or a
// widget loading them does not reach the database each time.
//
// An entry is dropped when its user's inbox changes (Invalidate, fed by the
// service's writes and by the realtime feed, which also carries other
// processes' writes to users with open streams), and expires after a short
// TTL anyway: that bounds how stale an answer can be when a change arrives
// by a path that names no user (another process's write to a user without
// a stream, a notification that becomes visible or expires with time).
//
// A read that raced with an invalidation is not kept: Begin notes the
// user's generation before the database read, and Put stores the answer
// only if no invalidation touched that user since. Answers of a kilobyte
// or more are kept gzipped too, for the clients that accept it.
package inboxcache
