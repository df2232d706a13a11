// Package cli is the `cloche` command line: a kong command tree on top of
// the public Go API of package cloche.
//
// Main is the only entry point; cmd/cloche calls it with the process's
// arguments, standard streams and environment, and tests call it the same
// way with buffers. Nothing is global: every command receives a *runtime
// holding the context, the streams, the environment and the global flags.
//
// Exit status: 0 when the command did what was asked, 1 when it failed
// (including input the service rejected, reported with the field at fault),
// 2 for usage errors (unknown or malformed flags and arguments: a datetime,
// a TYPE:ID context, a channel name). Errors are printed once, to standard
// error, as "cloche: <message>", by report in cli.go.
//
// One file per command group: serve.go, migrate.go, notify.go, events.go,
// types.go, directory.go, inbox.go, deliveries.go.
package cli
