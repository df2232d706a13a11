package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// Variables that are not settings (the test and benchmark switches, the
// file's name, the screenshots switch README documents) are left alone.
func TestLoadIgnoresNonSettings(t *testing.T) {
	env := []string{"CLOCHE_SCREENSHOTS=1", "CLOCHE_CONFIG=/nowhere.toml", "CLOCHE_TEST_POSTGRES_URL=postgres://x",
		"CLOCHE_TEST_REQUIRE_ALL=1", "CLOCHE_BENCH_STREAMS=100", "CLOCHE_BENCH_KEY=ck_x", "CLOCHE_HTTP__ADDR=127.0.0.1:9999"}
	cfg, err := Load("", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:9999" {
		t.Errorf("http.addr = %q", cfg.HTTP.Addr)
	}
	for _, name := range []string{"CLOCHE_SCREENSHOTS", "CLOCHE_CONFIG", "CLOCHE_TEST_LOG", "CLOCHE_BENCH_TOKENS", "HOME"} {
		if IsSettingVariable(name) {
			t.Errorf("%s read as a setting", name)
		}
	}
	if !IsSettingVariable("CLOCHE_HTTP__ADDR") {
		t.Error("CLOCHE_HTTP__ADDR is a setting")
	}
}

// Every error names its source: the variable (and the nearest known one
// when it is unknown), the file and key, or the command line.
func TestLoadNamesSource(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name      string
		file      string
		env       string
		overrides map[string]any
		want      []string // substrings of the message; "FILE" is the file's path
		field     string   // a *store.FieldError on this field, if set
	}{
		{name: "unknown variable", env: "CLOCHE_HTTP_ADRR=:8080",
			want: []string{"environment variable CLOCHE_HTTP_ADRR", "not a setting", "did you mean CLOCHE_HTTP__ADDR?"}},
		{name: "single underscore", env: "CLOCHE_HTTP_ADDR=:8080",
			want: []string{"CLOCHE_HTTP_ADDR", "did you mean CLOCHE_HTTP__ADDR?"}},
		{name: "unknown variable far from all", env: "CLOCHE_ZZZZZZZZZZZZZZZZZZZZ=1",
			want: []string{"environment variable CLOCHE_ZZZZZZZZZZZZZZZZZZZZ: not a setting"}},
		{name: "bad value in a variable", env: "CLOCHE_SCHEDULER__WORKERS=seven",
			want: []string{"environment variable CLOCHE_SCHEDULER__WORKERS", "scheduler.workers", "must be a whole number", `"seven"`}, field: "scheduler.workers"},
		{name: "bad duration in a variable", env: "CLOCHE_READ_RETENTION=soon",
			want: []string{"environment variable CLOCHE_READ_RETENTION", "read_retention", "invalid duration"}, field: "read_retention"},
		{name: "out of range variable", env: "CLOCHE_SCHEDULER__WORKERS=0",
			want: []string{"environment variable CLOCHE_SCHEDULER__WORKERS", "scheduler.workers: must be at least 1"}, field: "scheduler.workers"},
		{name: "bad value in the file", file: "[scheduler]\nworkers = \"seven\"\n",
			want: []string{"config file FILE: scheduler.workers: must be a whole number"}, field: "scheduler.workers"},
		{name: "bad duration in the file", file: "[check]\ntimeout = \"5 secs\"\n",
			want: []string{"config file FILE: check.timeout:", "invalid duration"}, field: "check.timeout"},
		{name: "out of range in the file", file: "[log]\nlevel = \"loud\"\n",
			want: []string{"config file FILE: log.level: must be debug, info, warn or error"}, field: "log.level"},
		{name: "unknown key in the file", file: "[htp]\naddr = \":80\"\n",
			want: []string{"config file FILE: ", `unknown setting "htp.addr"`, "did you mean http.addr?"}},
		{name: "list where a value goes", file: "database_url = [\"a\"]\n",
			want: []string{"config file FILE: database_url: must be a string, not a list"}, field: "database_url"},
		{name: "file overridden by the environment", file: "[scheduler]\nworkers = 4\n", env: "CLOCHE_SCHEDULER__WORKERS=-1",
			want: []string{"environment variable CLOCHE_SCHEDULER__WORKERS"}, field: "scheduler.workers"},
		{name: "command line", overrides: map[string]any{"database_url": " "},
			want: []string{"command line: database_url: must not be empty"}, field: "database_url"},
		{name: "value where a section goes", file: "http = 5\n",
			want: []string{"config file FILE: ", `"http" is a section ([http]), not a setting`}},
		{name: "unreadable file", file: "[scheduler\n", want: []string{"config file FILE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = file(tc.file)
			}
			var env []string
			if tc.env != "" {
				env = []string{tc.env}
			}
			_, err := Load(path, env, tc.overrides)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "FILE", path); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var se *SourceError
			if !errors.As(err, &se) {
				t.Errorf("error %q is not a *SourceError", err)
			}
			if tc.field != "" {
				var fe *store.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Errorf("error %q: want a field error on %s", err, tc.field)
				}
			}
		})
	}
}

// Empty sections are no error.
func TestLoadEmptySections(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cloche.toml")
	if err := os.WriteFile(p, []byte("[scheduler]\n\n[http.rate_limit]\n[http]\naddr = \":1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, nil, nil)
	if err != nil || cfg.HTTP.Addr != ":1" {
		t.Fatalf("http.addr %q, %v", cfg.HTTP.Addr, err)
	}
}

// Every list setting reads a comma-separated variable.
func TestLoadListVariables(t *testing.T) {
	cfg, err := Load("", []string{"CLOCHE_HTTP__TRUSTED_PROXIES=127.0.0.1, 10.0.0.0/8", "CLOCHE_CONSOLE__TRUSTED_ORIGINS= https://a.example.org ,"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.HTTP.TrustedProxies, " ") != "127.0.0.1 10.0.0.0/8" || strings.Join(cfg.Console.TrustedOrigins, " ") != "https://a.example.org" {
		t.Errorf("proxies %q, origins %q", cfg.HTTP.TrustedProxies, cfg.Console.TrustedOrigins)
	}
}
