// Package directory keeps the host application's people in step (users,
// groups, companies, followers: one at a time or imported in bulk from JSON)
// and turns an event's recipients into the people and addresses it reaches.
package directory
