package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"cardflow/config"
	"cardflow/flows"
)

// definitions are the flows and the org directory a process starts with,
// parsed and checked before anything is opened, so a bad file stops start-up
// with its file, line and reason.
type definitions struct {
	// from says where the flows were read: a directory, or the examples
	// built into the binary.
	from  string
	flows []*flows.Flow
	org   *flows.Org // nil: keep the stored directory
}

// With examples set (cardflow demo, with flows.dir and flows.org_file left
// at their defaults), a flows directory or org file missing on disk is read
// from the examples embedded in the binary instead, so the demo runs from
// any directory.
func readDefinitions(cfg *config.Config, examples fs.FS) (definitions, error) {
	var (
		all []*flows.Flow
		err error
	)
	from := cfg.Flows.Dir
	if _, statErr := os.Stat(cfg.Flows.Dir); examples != nil && errors.Is(statErr, fs.ErrNotExist) {
		from = "the examples built into the binary (no " + cfg.Flows.Dir + " here)"
		all, err = flows.LoadFS(examples, "flows", "(built-in examples) flows")
	} else {
		all, err = flows.LoadDir(cfg.Flows.Dir)
	}
	if err != nil {
		return definitions{}, err
	}
	d := definitions{from: from, flows: all}
	if cfg.Flows.OrgFile == "" {
		return d, nil
	}
	src, err := os.ReadFile(cfg.Flows.OrgFile)
	if examples != nil && errors.Is(err, fs.ErrNotExist) {
		src, err = fs.ReadFile(examples, "org.example.yaml")
	}
	if err != nil {
		return definitions{}, fmt.Errorf("org: %w", err)
	}
	org, err := flows.ParseOrg(cfg.Flows.OrgFile, src)
	if err != nil {
		return definitions{}, err
	}
	var errs []error
	for _, f := range all {
		errs = append(errs, f.CheckOrg(org))
	}
	errs = append(errs, org.CheckProxyFlows(all))
	if err := errors.Join(errs...); err != nil {
		return definitions{}, err
	}
	d.org = &org
	return d, nil
}

// install replaces the org directory (when a file was given) and registers
// the flows: a changed file becomes a new version, an unchanged one keeps
// its version, and running instances keep the version they started with.
func (d definitions) install(ctx context.Context, store flows.Store, engine *flows.Engine) ([]flows.Definition, error) {
	if d.org != nil {
		if err := store.ReplaceOrg(ctx, *d.org); err != nil {
			return nil, fmt.Errorf("org: replace directory: %w", err)
		}
		if err := store.ReplaceProxies(ctx, flows.ProxySourceOrg, d.org.Proxies); err != nil {
			return nil, fmt.Errorf("org: replace leave proxies: %w", err)
		}
	}
	defs, err := engine.Register(ctx, d.flows...)
	if err != nil {
		return nil, fmt.Errorf("flows: register: %w", err)
	}
	return defs, nil
}
