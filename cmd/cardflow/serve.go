package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"cardflow/app"
	"cardflow/config"
)

// defaultConfigPath is read when --config is not given and the file exists.
const defaultConfigPath = "configs/cardflow.yaml"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "Run the HTTP server, the outbox relay and the queue consumers on the configured\n"+
		"store and queue until SIGTERM or SIGINT, then shut down gracefully.\n"+
		"Every key can be overridden by CARDFLOW_<SECTION>_<KEY> environment variables.", stderr)
	path := configFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, err := readConfig(*path, nil, os.LookupEnv, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	return serve(ctx, cfg, stderr, app.RunOptions{})
}

// configFlag adds the --config flag to fs.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration file (default "+defaultConfigPath+" when it exists)")
}

// invalidConfig prints every configuration problem and returns the exit code.
func invalidConfig(fs *flag.FlagSet, stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "cardflow %s: invalid configuration:\n%v\n", fs.Name(), err)
	return 1
}

// readStoreConfig reads the configuration for a command that works on the
// store alone (migrate, orders, tokens): only the store settings are
// checked, so it needs no Redis or chat platform settings.
func readStoreConfig(path string) (*config.Config, error) {
	cfg, err := readConfig(path, nil, os.LookupEnv, nil)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.ValidateStore()
}

// readConfig reads the configuration every command shares: base (nil means
// config.Default), the file at path (or the default file when path is ""
// and it exists), the environment through lookupEnv, then overrides (the
// command's flags). The caller validates what it uses.
func readConfig(path string, base *config.Config, lookupEnv func(string) (string, bool), overrides []config.Override) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat(defaultConfigPath); err == nil {
			path = defaultConfigPath
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return config.Read(config.Sources{Base: base, File: path, LookupEnv: lookupEnv, Overrides: overrides})
}

// serve runs the server until ctx is cancelled, logging to stderr.
func serve(ctx context.Context, cfg *config.Config, stderr io.Writer, opts app.RunOptions) int {
	log := cfg.Log.NewLogger(stderr)
	opts.Logger = log
	tuneGC(os.LookupEnv)
	if err := app.Run(ctx, cfg, opts); err != nil {
		log.Error("cardflow failed", "err", err)
		return 1
	}
	return 0
}
