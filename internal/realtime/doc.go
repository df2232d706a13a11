// Package realtime pushes a user's new and changed in-app notifications to
// their open streams (Server-Sent Events), whichever process wrote them.
//
// A Hub learns what was written from the store's feed: on PostgreSQL each
// writing transaction sends a NOTIFY on commit, heard on a connection of
// the hub's own; on SQLite, where ids are assigned in commit order, it
// polls for ids after the last it saw (and at once when Wake is called).
// It reads the rows, encodes each once, and hands each user's to their
// streams. A stream sends new notifications with the unread counts the
// client has plus those of them that are unread, in one write; the hub
// then reads the users' counts (one query for all of them, off the
// delivery's path) and a stream sends them only if they differ, so that
// the client ends with the database's counts whatever happened meanwhile.
// New streams' heads and counts are read in batches too. A delivery is
// read and handed out in chunks of 1,000 notifications, so that streams
// write one chunk's while the hub reads the next; the counts read after
// it wait for its writes.
//
// On HTTP/1, a stream takes its connection from net/http once its first
// events are ready, and its handler returns: one goroutine of the
// stream's own, with a shallow stack, writes chunks straight to the
// connection, and net/http's per-connection buffers, request and reading
// goroutine are freed (conn.go). It learns that its client hung up at a
// keep-alive (a peek at the connection) or when a write fails; the hub
// also looks at a user's streams before refusing one over
// max_streams_per_user. Other writers (HTTP/2, recorders) keep the
// handler's goroutine. A stream that
// cannot keep up, or a hub that lost its listening connection, catches up
// from the database; so does a client that reconnects with the id of the
// last event it got.
//
// The stream's events:
//
//	event: notification   data: an inbox item (store.InboxItem), new to the client
//	event: change         data: a store.NotificationChange (read, unread, read_all, postponed, archived, unarchived)
//	event: counts         data: {"message": 2, "header_message": 0, "alert": 1}
//	event: reset          data: {"reason": "…"}: reload the list and counts
//
// Every event has an id, a cursor "N.C.T" (notification id, change id,
// time in microseconds); a client that reconnects with it (Last-Event-ID,
// or the last_event_id query parameter) receives what it missed, or reset
// when that cannot be told any more. Notification events are keyed by the
// item's id: on PostgreSQL a resumed stream may repeat the items created
// in the resume window before its cursor, never miss one.
package realtime
