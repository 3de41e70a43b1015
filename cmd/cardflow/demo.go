package main

import (
	"fmt"
	"io"
	"net"

	"cardflow/config"
)

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "Run cardflow on the embedded default — a SQLite file and an in-process queue —\n"+
		"so the whole system works with no database, no Redis and no credentials.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", "./data/cardflow.db", "embedded store file (created when missing)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg := demoConfig(*addr, *data)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "cardflow demo: %v\n", err)
		return 2
	}
	return serve(cfg, stderr, func(a net.Addr) { printDemoBanner(stdout, cfg, a) })
}

// demoConfig is the embedded default: no DSN, no Redis, text logs.
func demoConfig(addr, data string) *config.Config {
	cfg := config.Default()
	cfg.Server.Addr = addr
	cfg.Store.SQLitePath = data
	cfg.Log.Format = "text"
	return cfg
}

func printDemoBanner(w io.Writer, cfg *config.Config, a net.Addr) {
	base := "http://" + a.String()
	fmt.Fprintf(w, `
cardflow demo is running (embedded store %s, in-process queue).

  health     %[2]s/healthz
  readiness  %[2]s/readyz
  metrics    %[2]s/metrics

Stop it with Ctrl-C. Production runs the same binary on PostgreSQL and Redis: see README.md.
`, cfg.Store.SQLitePath, base)
}
