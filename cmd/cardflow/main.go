// Command cardflow is the single cardflow binary: it serves the HTTP API and
// chat callbacks, runs the embedded demo, migrates the flow store, and
// measures a running server.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM or Ctrl-C cancels the context: serve and demo shut down
	// gracefully, migrate stops between migrations, bench reports so far.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: its name, a one-line summary for the top-level
// help, and the function that parses its own flags and runs it until it is
// done or ctx is cancelled.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the server on the configured store and queue", runServe},
		{"demo", "run the server on the embedded store and in-process queue, no credentials needed", runDemo},
		{"migrate", "apply the flow store's schema migrations and exit", runMigrate},
		{"flows", "validate flow definitions, or print one as a Mermaid graph", runFlows},
		{"bench", "drive a running server over HTTP and report approvals/s and latencies", runBench},
		{"prune", "delete what is past its retention now, once, and report per table", runPrune},
		{"orders", "import an order history (CSV or JSON lines) into the store", runOrders},
		{"tokens", "create, list and revoke API tokens (shown once, stored hashed)", runTokens},
		{"version", "print the version and exit", runVersion},
	}
}

// run dispatches to a subcommand and returns the process exit code:
// 0 success, 1 failure at run time, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "cardflow: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cardflow — approvals, tasks and alerts as chat cards for e-commerce teams.")
	fmt.Fprintln(w, "\nUsage: cardflow <command> [flags]   (cardflow <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
