package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/cloche/cloche"
)

// shutdownTimeout bounds how long serve waits for running jobs to end.
const shutdownTimeout = 30 * time.Second

// serveCmd runs the service until its context ends (SIGINT, SIGTERM).
type serveCmd struct {
	Demo bool `help:"Load a small demo directory (a cooperative: companies, managers, admins, members, followers) at start; it is upserted, so running it again restores it."`
}

func (c *serveCmd) Help() string {
	return `Publishes scheduled events when they fall due, retries check URLs,
sends e-mails (when [smtp] names a mail server) and purges old notifications. Several 'cloche serve' may share one PostgreSQL
database. Stops cleanly on SIGINT or SIGTERM, waiting up to 30s for running
jobs.`
}

func (c *serveCmd) Run(rt *runtime) error {
	cfg, err := rt.config()
	if err != nil {
		return err
	}
	logger := newLogger(rt.stderr, cfg.Log, false)
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

	// The workers outlive rt.ctx: cancelling the context given to Start
	// would abort running jobs; they are stopped gracefully below instead.
	if err := svc.Start(context.WithoutCancel(rt.ctx)); err != nil {
		return err
	}
	logger.Info("cloche serving", "backend", svc.Backend(), "workers", cfg.Scheduler.Workers,
		"time_zone", svc.Location().String(), "email", svc.EmailConfigured())

	// The HTTP server (internal/httpapi) starts here, once it exists: build
	// it from svc and logger, run ListenAndServe in a goroutine whose error
	// ends serve, and Shutdown it below before the workers stop.

	<-rt.ctx.Done()
	logger.Info("cloche stopping", "timeout", shutdownTimeout.String())
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(rt.ctx), shutdownTimeout)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	logger.Info("cloche stopped")
	return nil
}
