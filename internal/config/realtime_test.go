package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadRealtime(t *testing.T) {
	def := Default().Realtime
	if def.KeepAlive.D() != 15*time.Second || def.PollInterval.D() != 250*time.Millisecond ||
		def.Retry.D() != 3*time.Second || def.ResumeWindow.D() != time.Minute || def.MaxStreams != 0 ||
		def.MaxStreamsPerUser != 32 {
		t.Errorf("default realtime settings %+v", def)
	}
	path := filepath.Join(t.TempDir(), "cloche.toml")
	if err := os.WriteFile(path, []byte("[realtime]\nkeep_alive = \"30s\"\nmax_streams = 20000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, []string{"CLOCHE_REALTIME__POLL_INTERVAL=100ms"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Realtime
	if got.KeepAlive.D() != 30*time.Second || got.MaxStreams != 20000 || got.PollInterval.D() != 100*time.Millisecond || got.Retry != def.Retry {
		t.Errorf("realtime settings %+v", got)
	}
}
