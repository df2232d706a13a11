// Package demo is the small directory `cloche serve --demo` loads: a
// cooperative with a few companies, its managers and admins, members, and
// the followers of their files, some of them inactive.
package demo
