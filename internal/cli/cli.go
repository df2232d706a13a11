package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/config"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// envConfig names the configuration file when --config is not given.
const envConfig = "CLOCHE_CONFIG"

// root is the command tree. Field order is the order of the help.
type root struct {
	Globals globals `embed:""`

	Notify     notifyCmd     `cmd:"" help:"Send a notification now, or schedule it (enDI's notify command)."`
	Events     eventsCmd     `cmd:"" help:"List, show and cancel notification events."`
	Inbox      inboxCmd      `cmd:"" help:"List and manage a user's in-app notifications."`
	Types      typesCmd      `cmd:"" help:"List, create, change and delete notification types."`
	Prefs      prefsCmd      `cmd:"" help:"Show and set who hears which type on which channel: users' preferences, organisation defaults."`
	Directory  directoryCmd  `cmd:"" help:"Import and inspect the host's users, groups and companies."`
	Deliveries deliveriesCmd `cmd:"" help:"List, show and retry deliveries (e-mail, push, webhook)."`
	Webhooks   webhooksCmd   `cmd:"" help:"Add, list, test, pause and remove outgoing webhooks."`
	Email      emailCmd      `cmd:"" help:"Check the mail server settings."`
	Serve      serveCmd      `cmd:"" help:"Serve the HTTP API and run the workers that publish scheduled events, until interrupted."`
	Migrate    migrateCmd    `cmd:"" help:"Create or upgrade the database schema."`
	APIKey     apikeyCmd     `cmd:"" name:"apikey" help:"Create, list and revoke the API keys of host applications."`
	Token      tokenCmd      `cmd:"" help:"Mint user tokens; show the secret that signs them."`
	Push       pushCmd       `cmd:"" help:"Browser push: print the VAPID public key."`
}

// globals are accepted by every command.
type globals struct {
	DatabaseURL string `name:"database-url" placeholder:"URL" help:"Database: a SQLite file path or sqlite: URL, or a postgres:// URL. Overrides CLOCHE_DATABASE_URL and the configuration file."`
	Config      string `name:"config" placeholder:"FILE" help:"TOML configuration file (default: the CLOCHE_CONFIG environment variable, if set)."`
	JSON        bool   `name:"json" help:"Print results as JSON (the API values) instead of text."`
}

// runtime is what every command's Run receives: the context, the standard
// streams, the environment and the global flags. Nothing else is shared.
type runtime struct {
	ctx     context.Context
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	globals *globals

	cfg *cloche.Config // loaded on first use
}

// exitRequest is how kong's Exit (called after --help) unwinds Parse
// without ending the process.
type exitRequest int

// Main runs the cloche command line with args (without the program name)
// and returns the exit status. ctx ends long-running commands (serve).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	var cli root
	parser, err := kong.New(&cli,
		kong.Name("cloche"),
		kong.Description("Cloche sends notifications to the users of a host application: by e-mail, or in its pages (bell menu, banner, modal alert)."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
		enumVars(),
	)
	if err != nil {
		return report(stderr, fmt.Errorf("internal error: command tree: %w", err), nil)
	}
	if len(args) == 0 {
		// Bare `cloche`: show the commands, but as the usage error it is.
		if _, _, _, err := parse(parser, []string{"--help"}); err != nil {
			return report(stderr, err, nil)
		}
		return exitUsage
	}
	kctx, exited, code, err := parse(parser, args)
	if exited {
		return code
	}
	if err != nil {
		return report(stderr, err, nil)
	}
	rt := &runtime{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, environ: environ, globals: &cli.Globals}
	return report(stderr, kctx.Run(rt), kctx)
}

// parse runs kong's parser, turning its Exit calls (after --help) into a
// returned status.
func parse(parser *kong.Kong, args []string) (kctx *kong.Context, exited bool, code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			exited, code = true, int(req)
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, false, 0, err
}

// usageError is a flag or argument the command could not make sense of.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// report prints err, if any, to w and returns the exit status it means;
// kctx, when known, names the command for the pointer to its help.
// It is the one place that maps errors to statuses and messages:
//   - kong's parse errors and our own usageError: 2, with a pointer to --help;
//   - everything else (the service's errors, field errors included; an
//     unreachable database; a configuration file that does not parse): 1.
//
// A *cloche.FieldError already reads "field: problem (hint)"; several of
// them joined are printed one per line. Messages never contain a database
// URL's password: the stores redact it and nothing here prints the URL.
func report(w io.Writer, err error, kctx *kong.Context) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var (
		parseErr *kong.ParseError
		usageErr *usageError
	)
	switch {
	case errors.As(err, &parseErr):
		code = exitUsage
	case errors.As(err, &usageErr):
		code = exitUsage
	case errors.Is(err, context.Canceled):
		err = fmt.Errorf("interrupted: %w", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(err.Error()), "\n") {
		fmt.Fprintf(w, "cloche: %s\n", line)
	}
	if code == exitUsage {
		if parseErr != nil {
			kctx = parseErr.Context
		}
		cmd := "cloche"
		if kctx != nil {
			if node := kctx.Selected(); node != nil {
				cmd += " " + node.Path()
			}
		}
		fmt.Fprintf(w, "cloche: run %q for usage\n", cmd+" --help")
	}
	return code
}

// config loads the configuration once: defaults, then the file (--config
// or CLOCHE_CONFIG), then CLOCHE_* variables, then the flags.
func (rt *runtime) config() (cloche.Config, error) {
	if rt.cfg != nil {
		return *rt.cfg, nil
	}
	path := rt.globals.Config
	if path == "" {
		path = lookupEnv(rt.environ, envConfig)
	}
	overrides := map[string]any{}
	if rt.globals.DatabaseURL != "" {
		overrides["database_url"] = rt.globals.DatabaseURL
	}
	cfg, err := config.Load(path, rt.environ, overrides)
	if err != nil {
		return cloche.Config{}, err
	}
	rt.cfg = &cfg
	return cfg, nil
}

// location is the configured time zone, in which datetimes without an
// offset are read and every time is shown.
func (rt *runtime) location() (*time.Location, error) {
	cfg, err := rt.config()
	if err != nil {
		return nil, err
	}
	return cfg.Location()
}

// open opens the service for a one-shot command. Close it when done.
func (rt *runtime) open() (*cloche.Service, error) {
	cfg, err := rt.config()
	if err != nil {
		return nil, err
	}
	return cloche.Open(rt.ctx, cfg, cloche.WithLogger(newLogger(rt.stderr, cfg.Log, true)))
}

// openExisting opens the service for a command that only reads, or acts
// on what is already there: a SQLite database that does not exist is an
// error saying how to create one, not a new empty file.
func (rt *runtime) openExisting() (*cloche.Service, error) {
	cfg, err := rt.config()
	if err != nil {
		return nil, err
	}
	svc, err := cloche.Open(rt.ctx, cfg, cloche.WithLogger(newLogger(rt.stderr, cfg.Log, true)), cloche.ExistingOnly())
	if errors.Is(err, cloche.ErrNoDatabase) {
		return nil, fmt.Errorf("%w\nCreate it with 'cloche migrate' (then 'cloche directory import FILE'), "+
			"or name another database with --database-url or CLOCHE_DATABASE_URL", err)
	}
	return svc, err
}

// newLogger builds the slog logger that cfg describes, writing to w.
// One-shot commands log warnings and errors only (their result is on
// standard output), unless log.level is debug.
func newLogger(w io.Writer, cfg config.Log, oneShot bool) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		level = slog.LevelInfo
	}
	if oneShot && level > slog.LevelDebug {
		level = max(level, slog.LevelWarn)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// printJSON writes v as indented JSON.
func (rt *runtime) printJSON(v any) error {
	enc := json.NewEncoder(rt.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printf writes a line of text output.
func (rt *runtime) printf(format string, args ...any) {
	fmt.Fprintf(rt.stdout, format+"\n", args...)
}

// warnf writes a warning to standard error.
func (rt *runtime) warnf(format string, args ...any) {
	fmt.Fprintf(rt.stderr, "cloche: warning: "+format+"\n", args...)
}

// table is a tabwriter on standard output whose first row is header.
type table struct{ tw *tabwriter.Writer }

func (rt *runtime) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(rt.stdout, 0, 0, 2, ' ', 0)}
	t.row(anySlice(header)...)
	return t
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, cleanCell(fmt.Sprint(c)))
	}
	fmt.Fprint(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// fields prints aligned "name: value" lines.
func (rt *runtime) fields(pairs ...[2]string) error {
	tw := tabwriter.NewWriter(rt.stdout, 0, 0, 1, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}

// cleanCell keeps a table cell on one line and free of tabs.
func cleanCell(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// firstLine is the first non-empty line of s, cut to max runes.
func firstLine(s string, maxRunes int) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return truncate(line, maxRunes)
		}
	}
	return ""
}

func truncate(s string, maxRunes int) string {
	r := []rune(s)
	if len(r) <= maxRunes {
		return s
	}
	return string(r[:maxRunes-1]) + "…"
}

func anySlice[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// nonNil makes empty lists print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// plural writes "1 user" or "3 users".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}

// parseContextFlag reads a --context TYPE:ID; a malformed one is a usage
// error.
func parseContextFlag(s string) (*cloche.Context, error) {
	if s == "" {
		return nil, nil
	}
	c, err := cloche.ParseContext(s)
	if err != nil {
		var fe *cloche.FieldError
		if errors.As(err, &fe) {
			return nil, usageErrorf("--context: %s", fe.Problem)
		}
		return nil, usageErrorf("--context: %v", err)
	}
	return c, nil
}

// channelEnum and friends list the values kong accepts for enum flags.
const (
	channelEnum       = "email,message,header_message,alert,push"
	inAppChannelEnum  = "message,header_message,alert"
	statusTypeEnum    = "neutral,valid,invalid,caution,document,calendar"
	eventStatusEnum   = "pending,published,cancelled,expired,dropped,failed"
	deliveryStateEnum = "queued,sending,sent,retrying,failed,skipped"
)

// enumVars make the lists above usable in struct tags as ${channels} etc.
func enumVars() kong.Vars {
	return kong.Vars{
		"channels":        channelEnum,
		"in_app_channels": inAppChannelEnum,
		"status_types":    statusTypeEnum,
		"event_statuses":  eventStatusEnum,
		"delivery_states": deliveryStateEnum,
		"datetime_forms":  datetimeHelp,
	}
}
