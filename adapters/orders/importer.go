package orders

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ImportSummary is how an import went.
type ImportSummary struct {
	// Orders is how many orders were read, Imported how many were new,
	// Duplicates how many were stored already (an import run twice).
	Orders, Imported, Duplicates int
	// Refused lists the orders that could not be read, by line, each with
	// every reason; the import goes on past them.
	Refused []LineError
}

// LineError is an order of an import file that could not be read.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Progress is told, now and then, how many bytes of the file were read and
// how many orders so far.
type Progress func(bytesRead int64, orders int)

// Import loads an order history into store: JSON lines (one order in the
// generic shape per line) or CSV (a header row naming the generic shape's
// fields, one row per order line; rows in a row with the same platform,
// shop and order number are one order's lines). Imported orders are
// history: their events are stored as routed, so they start no flow. An
// order stored already is a duplicate, so an import interrupted and run
// again finishes the job. Only the store failing stops the import.
func Import(ctx context.Context, r io.Reader, format, source string, store Store, now time.Time, progress Progress) (ImportSummary, error) {
	if progress == nil {
		progress = func(int64, int) {}
	}
	cr := &countingReader{r: r}
	var sum ImportSummary
	put := func(line int, o Order, err error) error {
		sum.Orders++
		if sum.Orders%200 == 0 {
			progress(cr.n, sum.Orders)
		}
		if err == nil {
			err = o.Validate()
		}
		if err != nil {
			sum.Refused = append(sum.Refused, LineError{Line: line, Err: err})
			return nil
		}
		e := OrderEvent(source, o, now)
		first, _, err := store.IngestOrderEvent(ctx, source, e)
		if errors.Is(err, ErrInvalid) {
			sum.Refused = append(sum.Refused, LineError{Line: line, Err: err})
			return nil
		}
		if err != nil {
			return fmt.Errorf("orders: import line %d: %w", line, err)
		}
		if !first {
			sum.Duplicates++
			return nil
		}
		sum.Imported++
		if err := store.MarkOrderEventRouted(ctx, source, e.ID, now); err != nil {
			return fmt.Errorf("orders: import line %d: %w", line, err)
		}
		return ctx.Err()
	}
	var err error
	switch format {
	case "jsonl":
		err = importJSONLines(cr, put)
	case "csv":
		err = importCSV(cr, put)
	default:
		return sum, fmt.Errorf("orders: import: format %q is not jsonl or csv", format)
	}
	progress(cr.n, sum.Orders)
	return sum, err
}

func importJSONLines(r io.Reader, put func(int, Order, error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxBody)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		o, err := Generic(b)
		if err := put(line, o, err); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("orders: import: line %d: %w", line+1, err)
	}
	return nil
}

// csvFields are the CSV columns, the generic shape's names; order lines
// take sku, outer_sku, title, qty, price and line_paid.
var csvFields = map[string]bool{"platform": true, "shop": true, "order_no": true, "status": true, "refund": true,
	"total": true, "paid": true, "postage": true, "discount": true, "buyer": true, "province": true, "city": true,
	"created_at": true, "paid_at": true, "shipped_at": true, "updated_at": true,
	"sku": true, "outer_sku": true, "title": true, "qty": true, "price": true, "line_paid": true}

func importCSV(r io.Reader, put func(int, Order, error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("orders: import: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // Excel's byte order mark
		if !csvFields[h] {
			return fmt.Errorf("orders: import: header column %d %q is not a field of the generic order shape", i+1, h)
		}
		col[h] = i
	}
	var (
		cur     map[string]any
		curKey  string
		curLine int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		b, _ := json.Marshal(cur) // strings, and lists and maps of them
		o, err := Generic(b)
		cur = nil
		return put(curLine, o, err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return flush()
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if perr := put(line, Order{}, err); perr != nil {
				return perr
			}
			continue
		}
		get := func(f string) string {
			if i, ok := col[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		key := get("platform") + "\x00" + get("shop") + "\x00" + get("order_no")
		if cur == nil || key != curKey {
			if err := flush(); err != nil {
				return err
			}
			cur, curKey, curLine = map[string]any{"lines": []any{}}, key, line
			for f := range col {
				switch f {
				case "sku", "outer_sku", "title", "qty", "price", "line_paid":
				default:
					if v := get(f); v != "" {
						cur[f] = v
					}
				}
			}
		}
		l := map[string]any{}
		for f, name := range map[string]string{"sku": "sku", "outer_sku": "outer_sku", "title": "title", "qty": "qty",
			"price": "price", "line_paid": "paid"} {
			if v := get(f); v != "" {
				l[name] = v
			}
		}
		if len(l) > 0 {
			cur["lines"] = append(cur["lines"].([]any), l)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
