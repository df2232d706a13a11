// Package config holds Cloche's settings: their defaults, how they load
// (TOML file, then CLOCHE_* environment variables, then command-line flags,
// each overriding the one before; load.go) and how they are checked. Every
// loading error names its source: the file, the variable, the command line.
// CLOCHE_* variables that are not settings (CLOCHE_CONFIG, the test and
// benchmark switches) are left alone.
package config
