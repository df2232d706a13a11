// Package config holds Cloche's settings: their defaults, how they load
// (TOML file, then CLOCHE_* environment variables, then command-line flags,
// each overriding the one before) and how they are checked.
package config
