package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress paces progress lines: due reports true at most once per every.
type progress struct {
	now   func() time.Time
	every time.Duration
	start time.Time
	last  time.Time
}

func newProgress(now func() time.Time, every time.Duration) *progress {
	t := now()
	return &progress{now: now, every: every, start: t, last: t}
}

// due reports whether a progress line is due, and if so counts it shown.
func (p *progress) due() bool {
	t := p.now()
	if t.Sub(p.last) < p.every {
		return false
	}
	p.last = t
	return true
}

// elapsed is the time since the progress started.
func (p *progress) elapsed() time.Duration { return p.now().Sub(p.start) }

// rate says how long n orders took and how many went through a second.
// Past a second a tenth is precise enough, and easier to read.
func rate(n int, took time.Duration) string {
	shown := took.Round(time.Millisecond)
	if took >= time.Second {
		shown = took.Round(100 * time.Millisecond)
	}
	if shown <= 0 {
		return "in " + shown.String()
	}
	return fmt.Sprintf("in %s, %s orders/s", shown, group(int(float64(n)/took.Seconds())))
}

// isTerminal reports whether w is a terminal, where progress is redrawn in
// place rather than written line by line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importProgress shows how far an import is, with the orders so far and the
// rate: redrawn in place ten times a second on a terminal, a line a second
// elsewhere (a log keeps them all), and a last line when it is done.
type importProgress struct {
	w        io.Writer
	size     int64
	terminal bool
	pace     *progress
	read     int64
	orders   int
}

func newImportProgress(w io.Writer, size int64, terminal bool, now func() time.Time) *importProgress {
	every := time.Second
	if terminal {
		every = 100 * time.Millisecond
	}
	return &importProgress{w: w, size: size, terminal: terminal, pace: newProgress(now, every)}
}

func (p *importProgress) show(read int64, orders int) {
	p.read, p.orders = read, orders
	if p.pace.due() {
		p.draw()
	}
}

func (p *importProgress) draw() {
	pct := 100
	if p.size > 0 {
		pct = int(min(p.read*100/p.size, 100))
	}
	line := fmt.Sprintf("%3d%%  %s orders %s", pct, group(p.orders), rate(p.orders, p.pace.elapsed()))
	if p.terminal {
		filled := pct / 5
		fmt.Fprintf(p.w, "\r[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", 20-filled), line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// done draws the last state and returns how long the import took.
func (p *importProgress) done() time.Duration {
	p.draw()
	if p.terminal {
		fmt.Fprintln(p.w)
	}
	return p.pace.elapsed()
}
