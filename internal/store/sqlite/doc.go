// Package sqlite is the embedded, default backend of Cloche, on
// modernc.org/sqlite (no cgo). It keeps one writer connection, through which
// every transaction goes, and a small pool of read-only connections; the
// database runs in WAL mode so that readers never wait for the writer.
package sqlite
