// Package dispatch is the heart of Cloche: it checks a notify request,
// chooses the channel, records the event, and either fans it out to its
// recipients at once (on the channels their preferences give them,
// preferences.go; e-mail of people on a digest is held for it, digest.go)
// or schedules its publication; its River workers publish
// due events (asking the host's check_url first when there is one) and purge
// old notifications. A publish job claims its event before it works on it,
// and a sweep queues again the due events whose publisher died (rescue.go).
package dispatch
