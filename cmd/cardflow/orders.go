package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cardflow/adapters/orders"
	"cardflow/app"
)

func runOrders(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "import" {
		return runOrdersImport(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, "Usage: cardflow orders import [--config FILE] [--source NAME] FILE   load an order history (CSV or JSON lines)")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return 0
	}
	return 2
}

// maxRefusalsShown bounds the refused lines printed; the count says the rest.
const maxRefusalsShown = 20

func runOrdersImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("orders import", "Load an order history into the configured store: FILE is CSV (a header row of the\n"+
		"generic order fields, one row per order line) or JSON lines (one generic order per line),\n"+
		"told apart by its extension (.csv, .jsonl, .ndjson). Imported orders start no flow; /order\n"+
		"finds them. Orders stored already are counted and skipped, so an import cut short can be\n"+
		"run again. The exit status is 1 when any order could not be read (each is listed by line).", stderr)
	path := configFlag(fs)
	source := fs.String("source", "import", "the source name recorded with the imported orders")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	file := fs.Arg(0)
	format := map[string]string{".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}[strings.ToLower(filepath.Ext(file))]
	if format == "" {
		fmt.Fprintf(stderr, "cardflow orders import: %s: expected a .csv, .jsonl or .ndjson file\n", file)
		return 2
	}
	cfg, err := readStoreConfig(*path)
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow orders import: %v\n", err)
		return 1
	}
	defer f.Close()
	size := int64(0)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	store, name, err := app.OpenStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow orders import: %v\n", err)
		return 1
	}
	defer store.Close()
	orderStore, ok := store.(orders.Store)
	if !ok {
		fmt.Fprintf(stderr, "cardflow orders import: the %s store keeps no orders\n", name)
		return 1
	}
	bar := newImportProgress(stderr, size, isTerminal(stderr), time.Now)
	sum, err := orders.Import(ctx, f, format, *source, orderStore, time.Now(), bar.show)
	took := bar.done()
	fmt.Fprintf(stdout, "%s: %s orders read: %s imported, %s already stored, %d refused (%s)\n",
		file, group(sum.Orders), group(sum.Imported), group(sum.Duplicates), len(sum.Refused), rate(sum.Orders, took))
	for i, r := range sum.Refused {
		if i == maxRefusalsShown {
			fmt.Fprintf(stdout, "… and %d more refused\n", len(sum.Refused)-maxRefusalsShown)
			break
		}
		fmt.Fprintf(stdout, "  %s:%d: %s\n", file, r.Line, strings.ReplaceAll(r.Err.Error(), "\n", "; "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "cardflow orders import: stopped: %v (run it again to go on)\n", err)
		return 1
	}
	if len(sum.Refused) > 0 {
		return 1
	}
	return 0
}
