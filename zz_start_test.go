package cloche_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

func TestZZStart(t *testing.T) {
	for i := 0; i < 3; i++ {
		cfg := cloche.DefaultConfig()
		cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "c.db")
		t0 := time.Now()
		svc, err := cloche.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		svc.Start(context.Background())
		t2 := time.Now()
		t.Logf("open %v start %v", t1.Sub(t0), t2.Sub(t1))
		svc.Stop(context.Background())
		svc.Close()
	}
}
