// Package cloche is a notification service for web applications, usable as a
// Go library or as the standalone `cloche` server and command line.
//
// A host application tells Cloche what happened and who should know:
//
//	svc, err := cloche.Open(ctx, cloche.DefaultConfig())
//	res, err := svc.Notify(ctx,
//		cloche.Notification{Key: "message:internal", Title: "Hello", Body: "…"},
//		cloche.Recipients{GroupNames: []string{"manager", "admin"}},
//		cloche.ForceChannel(cloche.ChannelEmail))
//
// Every notification has a type, found by its key, whose default channel is
// used unless the sender forces one: email, message (the bell menu),
// header_message (a banner) or alert (a modal). A notification with a due
// datetime becomes a scheduled event, published when it falls due by the
// workers that Start runs.
//
// Cloche keeps its state in SQLite (the default, a file) or PostgreSQL,
// chosen by Config.DatabaseURL.
package cloche
