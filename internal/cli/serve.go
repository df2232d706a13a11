package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/demo"
	"github.com/cloche/cloche/internal/httpapi"
	"github.com/cloche/cloche/internal/web"
	"github.com/cloche/cloche/internal/widget"
)

// shutdownTimeout bounds how long serve waits for running jobs to end.
const shutdownTimeout = 30 * time.Second

// serveCmd runs the service until its context ends (SIGINT, SIGTERM).
type serveCmd struct {
	Demo bool `help:"Load a small demo directory (a cooperative: companies, managers, admins, members, followers) at start, upserted so that running it again restores it, and serve a demo host page with the widget at /demo."`
}

func (c *serveCmd) Help() string {
	return `Serves the HTTP API on http.addr (default 127.0.0.1:8080), with the
console under /console and the widget's script at /widget/cloche.js; publishes
scheduled events when they fall due, retries check URLs, sends e-mails
(when [smtp] names a mail server) and purges old notifications. Several 'cloche serve' may share one PostgreSQL database.
Stops cleanly on SIGINT or SIGTERM: the server stops accepting, requests in
flight finish (up to http.shutdown_timeout), event streams close, then the
workers stop (up to 30s for running jobs).`
}

func (c *serveCmd) Run(rt *runtime) error {
	cfg, err := rt.config()
	if err != nil {
		return err
	}
	tlsCfg, err := cfg.HTTP.TLSConfig() // nil: plain HTTP
	if err != nil {
		return err
	}
	logs := newBufferedLog(rt.stderr) // a line per request: written in batches
	defer logs.Close()
	logger := newLogger(logs, cfg.Log, false)
	if c.Demo {
		demoConsolePassword(&cfg, logger)
	}
	svc, err := cloche.Open(rt.ctx, cfg, cloche.WithLogger(logger))
	if err != nil {
		return err
	}
	defer svc.Close()
	if c.Demo {
		if err := loadDemo(rt.ctx, svc, logger); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The realtime hub (GET /api/v1/me/stream) is given as Options.Streamer.
	ccfg := web.ConsoleConfigFrom(cfg.Console)
	ccfg.KeyChecker = svc
	ccfg.TrustedProxies = cfg.HTTP.TrustedProxyPrefixes()
	console, err := web.NewConsole(svc, ccfg, logger)
	if err != nil {
		return err
	}
	mount := []func(*http.ServeMux){console.Register, widget.New().Register}
	var page *demo.Page
	if c.Demo {
		if page, err = demo.NewPage(svc, console.Prefix(), logger); err != nil {
			return err
		}
		mount = append(mount, page.Register)
	}
	srv, err := httpapi.New(svc, httpapi.Options{Logger: logger, Registry: reg, Mount: mount, Streamer: svc.Streamer()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s (http.addr): %w", cfg.HTTP.Addr, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg) // HTTPS: http.tls_cert_file, http.tls_key_file
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The workers outlive rt.ctx: cancelling the context given to Start
	// would abort running jobs; they are stopped gracefully below instead.
	if err := svc.Start(context.WithoutCancel(rt.ctx)); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	if c.Demo {
		logDemoURLs(logger, ln.Addr(), tlsCfg != nil, console.Prefix(), page)
	}
	logger.Info("cloche serving", "http", ln.Addr().String(), "tls", tlsCfg != nil, "backend", svc.Backend(),
		"workers", cfg.Scheduler.Workers, "time_zone", svc.Location().String(), "email", svc.EmailConfigured())

	var serveErr error
	select {
	case <-rt.ctx.Done():
	case serveErr = <-served:
		serveErr = fmt.Errorf("http: %w", serveErr)
		logger.Error("cloche: the HTTP server stopped", "err", serveErr)
	}
	logger.Info("cloche stopping", "timeout", shutdownTimeout.String())
	httpCtx, cancelHTTP := context.WithTimeout(context.WithoutCancel(rt.ctx), cfg.HTTP.ShutdownTimeout.D())
	defer cancelHTTP()
	if err := srv.Shutdown(httpCtx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("http: shutdown: %w", err))
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(rt.ctx), shutdownTimeout)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		return errors.Join(serveErr, fmt.Errorf("stop workers: %w", err))
	}
	logger.Info("cloche stopped")
	return serveErr
}
