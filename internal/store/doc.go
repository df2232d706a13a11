// Package store defines Cloche's persistence contract: the entities it keeps
// (directory, notification types, events, in-app notifications, e-mail
// deliveries), the parameters of every query, the Store interface that each
// backend implements, and the sentinel errors every backend maps its own
// errors to.
//
// Backends live in sub-packages (sqlite, postgres); storetest holds the one
// conformance suite they all pass.
package store
