package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/demo"
)

// loadDemo loads the demo directory and logs what it holds.
func loadDemo(ctx context.Context, svc *cloche.Service, logger *slog.Logger) error {
	sum, err := demo.Load(ctx, svc)
	if err != nil {
		return err
	}
	logger.Info("demo directory loaded", "companies", sum.Companies, "users", sum.Users,
		"inactive", sum.Inactive, "with_follower", sum.Followed, "summary", sum.String())
	return nil
}

// demoConsolePassword gives the console a password for this run when the
// configuration sets none, so that a demo opens without editing a file,
// and logs it.
func demoConsolePassword(cfg *cloche.Config, logger *slog.Logger) {
	if cfg.Console.AdminPassword != "" {
		return
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	cfg.Console.AdminPassword = base64.RawURLEncoding.EncodeToString(b)
	logger.Warn("demo: console.admin_password is not set; this run's console password follows (set one to keep it)",
		"console_password", cfg.Console.AdminPassword)
}

// logDemoURLs says where to open the console and the demo page. An
// address that listens on every interface is shown as the loopback one.
func logDemoURLs(logger *slog.Logger, addr net.Addr, https bool, consolePrefix string, page *demo.Page) {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	base := scheme + addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		base = scheme + net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	logger.Info("demo: open the console, and the demo page in another tab", "console", base+consolePrefix+"/",
		"demo", page.URL(base))
}
