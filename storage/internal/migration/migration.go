// Package migration is what the PostgreSQL and SQLite stores share of
// their migrations: goose's run of a store's embedded files, and the
// summary of that run, which cardflow migrate prints alike for both.
package migration

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// Result summarises a run.
type Result struct {
	// Steps are the migrations this run applied, in order, with their
	// file names and how long each took; empty when the schema was
	// already current.
	Steps []Step
	// Version is the schema's version after the run.
	Version int64
}

// Step is one migration a run applied.
type Step struct {
	Version  int64
	Name     string // its file name, 00001_init.sql
	Duration time.Duration
}

// Up applies every pending migration of p and reads the version it left.
// Its errors are for the store to name itself in.
func Up(ctx context.Context, p *goose.Provider) (Result, error) {
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, r := range results {
		res.Steps = append(res.Steps, Step{Version: r.Source.Version, Name: path.Base(r.Source.Path), Duration: r.Duration})
	}
	if res.Version, err = p.GetDBVersion(ctx); err != nil {
		return Result{}, fmt.Errorf("read version: %w", err)
	}
	return res, nil
}
