package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"cardflow/config"
	"cardflow/flows"
)

// definitions are the flows and the org directory a process starts with,
// parsed and checked before anything is opened, so a bad file stops start-up
// with its file, line and reason.
type definitions struct {
	flows []*flows.Flow
	org   *flows.Org // nil: keep the stored directory
}

func readDefinitions(cfg *config.Config) (definitions, error) {
	all, err := flows.LoadDir(cfg.Flows.Dir)
	if err != nil {
		return definitions{}, err
	}
	d := definitions{flows: all}
	if cfg.Flows.OrgFile == "" {
		return d, nil
	}
	src, err := os.ReadFile(cfg.Flows.OrgFile)
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
