package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"cardflow/app"
	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/queue"
)

func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("prune", "Run one pruning pass now with the configured retentions (outbox.retention,\n"+
		"store.idempotency_retention, store.card_retention, store.instance_retention, and\n"+
		"queue.dead_letter_retention when the queue is Redis), print what each table lost, and\n"+
		"exit. A running server prunes every store.prune_interval by itself; this is for after\n"+
		"lowering a retention, or for a store no server runs on.\n"+
		"Running instances and unsent notifications are never deleted.", stderr)
	path := configFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, err := readConfig(*path, nil, os.LookupEnv, nil)
	if err == nil {
		err = cfg.ValidatePrune()
	}
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	store, name, err := app.OpenStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow prune: %v\n", err)
		return 1
	}
	defer store.Close()
	// The in-process queue's dead letters live in the server's memory, out
	// of this command's reach (the server prunes them); Redis's are pruned
	// here too.
	rets := app.Retentions(cfg)
	var q queue.Queue
	if cfg.Queue.RedisURL.IsZero() {
		rets = slices.DeleteFunc(rets, func(r app.Retention) bool { return r.Key == "queue.dead_letter_retention" })
	} else {
		rq, _, err := app.OpenQueue(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			fmt.Fprintf(stderr, "cardflow prune: %v\n", err)
			return 1
		}
		defer rq.Close()
		q = rq
	}

	prog := newProgress(time.Now, time.Second)
	loop, err := app.NewPruneLoop(cfg, store, name, q, outbox.PruneOptions{
		Holder: "cardflow-prune-" + strconv.Itoa(os.Getpid()),
		OnBatch: func(table string, deleted int) {
			if prog.due() {
				fmt.Fprintf(stderr, "cardflow prune: %s: %s deleted so far …\n", table, group(deleted))
			}
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "cardflow prune: %v\n", err)
		return 1
	}
	res, passErr := loop.Once(ctx)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "cardflow prune: interrupted")
		return 1
	case res.Skipped:
		fmt.Fprintf(stdout, "%s: skipped: another cardflow instance holds the prune lease; it prunes every %s (store.prune_interval)\n",
			name, formatRetention(cfg.Store.PruneInterval))
		return 0
	}
	writePruneReport(stdout, name, rets, res, prog.elapsed())
	if passErr != nil {
		fmt.Fprintf(stderr, "cardflow prune: stopped: %v (run it again to go on)\n", passErr)
		return 1
	}
	return 0
}

// writePruneReport prints a line per pruned table (rows deleted, how long
// rows are kept and the key that says so) and the total.
func writePruneReport(w io.Writer, store string, rets []app.Retention, res outbox.PruneResult, took time.Duration) {
	fmt.Fprintf(w, "%s: one prune pass with the configured retentions\n", store)
	total := 0
	for _, r := range rets {
		if r.Table == "" {
			continue
		}
		if r.For <= 0 {
			fmt.Fprintf(w, "  %-12s %10s           kept for ever (%s is 0)\n", r.Table, "-", r.Key)
			continue
		}
		n := res.Tables[r.Table]
		switch r.Table {
		case "outbox":
			n = res.Outbox
		case "idempotency":
			n = res.Idempotency
		}
		total += n
		fmt.Fprintf(w, "  %-12s %10s deleted   kept %-6s %s\n", r.Table, group(n), formatRetention(r.For), r.Key)
	}
	fmt.Fprintf(w, "%s rows deleted in %s", group(total), took.Round(time.Millisecond))
	if res.Tables["instances"] > 0 {
		fmt.Fprint(w, " (an instance counts as one, with its tasks, audit rows and cards)")
	}
	fmt.Fprintln(w)
}

// formatRetention writes whole days as 7d, anything else as a duration.
func formatRetention(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// group writes n with thousands separators.
func group(n int) string { return flows.GroupThousands(strconv.Itoa(n)) }
