// Package demo is what `cloche serve --demo` adds: the small directory it
// loads (a cooperative with a few companies, its managers and admins,
// members, and the followers of their files, some of them inactive), and
// the demo page at /demo, a pretend host application that embeds the
// widget for one of those people, chosen with a switcher.
package demo
