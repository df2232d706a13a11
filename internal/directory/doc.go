// Package directory keeps the host application's people in step (users,
// groups, companies, followers, account types: one at a time, imported in
// bulk from JSON, or synced to a whole snapshot, the missing deactivated)
// and turns an event's recipients into the people and addresses it reaches.
package directory
