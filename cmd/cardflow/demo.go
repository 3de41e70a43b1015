package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
)

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "Run cardflow on the embedded default — a SQLite file and an in-process queue —\n"+
		"so the whole system works with no database, no Redis and no credentials.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", "./data/cardflow.db", "embedded store file (created when missing)")
	flowsDir := fs.String("flows", defaultFlowsDir, "directory of flow definitions to load")
	orgFile := fs.String("org", defaultOrgFile, "org directory (users, roles, departments) to load")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg := demoConfig(*addr, *data)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "cardflow demo: %v\n", err)
		return 2
	}
	loaded, err := seedDemo(cfg, *flowsDir, *orgFile)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow demo: %v\n", err)
		return 1
	}
	return serve(cfg, stderr, func(a net.Addr) { printDemoBanner(stdout, cfg, loaded, a) })
}

// seedDemo stores the example flow definitions (a new version only where a
// file changed since the last run) and replaces the org directory with the
// example one. It returns a line per flow for the banner.
func seedDemo(cfg *config.Config, flowsDir, orgFile string) ([]string, error) {
	all, err := flows.LoadDir(flowsDir)
	if err != nil {
		return nil, err
	}
	org, err := loadOrg(orgFile)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if err := f.CheckOrg(org); err != nil {
			return nil, err
		}
	}
	ctx := context.Background()
	store, _, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.ReplaceOrg(ctx, org); err != nil {
		return nil, fmt.Errorf("load org %s: %w", orgFile, err)
	}
	var lines []string
	for _, f := range all {
		d, _, err := store.PutDefinition(ctx, f.Definition())
		if err != nil {
			return nil, fmt.Errorf("store flow %s: %w", f.ID, err)
		}
		lines = append(lines, fmt.Sprintf("%-20s v%d  %s", d.FlowID, d.Version, f.Name))
	}
	return lines, nil
}

// demoConfig is the embedded default: no DSN, no Redis, text logs.
func demoConfig(addr, data string) *config.Config {
	cfg := config.Default()
	cfg.Server.Addr = addr
	cfg.Store.SQLitePath = data
	cfg.Log.Format = "text"
	return cfg
}

func printDemoBanner(w io.Writer, cfg *config.Config, loaded []string, a net.Addr) {
	base := "http://" + a.String()
	fmt.Fprintf(w, `
cardflow demo is running (embedded store %s, in-process queue).

Flows loaded:
  %s

  health     %[3]s/healthz
  readiness  %[3]s/readyz
  metrics    %[3]s/metrics

Stop it with Ctrl-C. Production runs the same binary on PostgreSQL and Redis: see README.md.
`, cfg.Store.SQLitePath, strings.Join(loaded, "\n  "), base)
}
