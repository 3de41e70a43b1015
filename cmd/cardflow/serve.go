package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"cardflow/app"
	"cardflow/config"
)

// defaultConfigPath is read when --config is not given and the file exists.
const defaultConfigPath = "configs/cardflow.yaml"

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "Run the HTTP server, the outbox relay and the queue consumers on the configured\n"+
		"store and queue until SIGTERM or SIGINT, then shut down gracefully.\n"+
		"Every key can be overridden by CARDFLOW_<SECTION>_<KEY> environment variables.", stderr)
	cfg, code, ok := parseConfig(fs, args, stderr)
	if !ok {
		return code
	}
	return serve(cfg, stderr, nil)
}

// parseConfig adds the --config flag to fs, parses args and loads the
// configuration. When it reports !ok the command returns code at once: it
// has printed the usage or every configuration problem.
func parseConfig(fs *flag.FlagSet, args []string, stderr io.Writer) (cfg *config.Config, code int, ok bool) {
	path := fs.String("config", "", "configuration file (default "+defaultConfigPath+" when it exists)")
	if code, ok := parse(fs, args); !ok {
		return nil, code, false
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow %s: invalid configuration:\n%v\n", fs.Name(), err)
		return nil, 1, false
	}
	return cfg, 0, true
}

// serve runs the server until a signal, logging to stderr; onReady, if set,
// is told the listening address.
func serve(cfg *config.Config, stderr io.Writer, onReady func(app.Ready)) int {
	log := cfg.Log.NewLogger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, cfg, app.RunOptions{Logger: log, OnReady: onReady}); err != nil {
		log.Error("cardflow failed", "err", err)
		return 1
	}
	return 0
}

// loadConfig loads path, or the default file when path is "" and it exists,
// or only defaults and the environment.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat(defaultConfigPath); err == nil {
			path = defaultConfigPath
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return config.Load(path, os.LookupEnv)
}
