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
	cfg, err := readConfig(*path, nil, os.LookupEnv, nil)
	if err == nil {
		err = cfg.ValidateStore()
	}
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
	bar := newProgressBar(stderr, size)
	sum, err := orders.Import(ctx, f, format, *source, orderStore, time.Now(), bar.show)
	bar.done()
	fmt.Fprintf(stdout, "%s: %d orders read: %d imported, %d already stored, %d refused\n",
		file, sum.Orders, sum.Imported, sum.Duplicates, len(sum.Refused))
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

// progressBar draws how far an import is: redrawn in place on a terminal,
// a line every quarter elsewhere (a log keeps them all).
type progressBar struct {
	w        io.Writer
	size     int64
	terminal bool
	quarter  int
	last     time.Time
}

func newProgressBar(w io.Writer, size int64) *progressBar {
	f, ok := w.(*os.File)
	terminal := false
	if ok {
		if st, err := f.Stat(); err == nil {
			terminal = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, size: size, terminal: terminal}
}

func (p *progressBar) show(read int64, orders int) {
	pct := 100
	if p.size > 0 {
		pct = int(min(read*100/p.size, 100))
	}
	if p.terminal {
		if time.Since(p.last) < 100*time.Millisecond && pct < 100 {
			return
		}
		p.last = time.Now()
		filled := pct / 5
		fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %d orders", strings.Repeat("#", filled), strings.Repeat(".", 20-filled), pct, orders)
		return
	}
	if q := pct / 25; q > p.quarter {
		p.quarter = q
		fmt.Fprintf(p.w, "%d%%  %d orders\n", pct, orders)
	}
}

func (p *progressBar) done() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}
