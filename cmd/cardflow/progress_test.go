package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bench"
)

func TestProgressPacesLines(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(func() time.Time { return now }, time.Second)
	var due []bool
	for _, step := range []time.Duration{0, 400 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond, 100 * time.Millisecond} {
		now = now.Add(step)
		due = append(due, p.due())
	}
	require.Equal(t, []bool{false, false, true, false, true}, due)
	require.Equal(t, 2*time.Second, p.elapsed())
}

// TestImportProgress feeds an import's progress calls on a fake clock: a
// log gets a line a second with the rate so far and a last line; a terminal
// gets the bar redrawn in place and a newline at the end.
func TestImportProgress(t *testing.T) {
	t.Parallel()
	type call struct {
		after  time.Duration
		read   int64
		orders int
	}
	calls := []call{{300 * time.Millisecond, 100, 500}, {700 * time.Millisecond, 300, 2400}, {500 * time.Millisecond, 600, 3000},
		{600 * time.Millisecond, 900, 5000}, {400 * time.Millisecond, 1000, 6200}}
	tests := []struct {
		name     string
		terminal bool
		want     string
	}{
		{name: "log", want: "" +
			" 30%  2,400 orders in 1s, 2,400 orders/s\n" +
			" 90%  5,000 orders in 2.1s, 2,380 orders/s\n" +
			"100%  6,200 orders in 2.5s, 2,480 orders/s\n"},
		{name: "terminal", terminal: true, want: "" +
			"\r[##..................]  10%  500 orders in 300ms, 1,666 orders/s" +
			"\r[######..............]  30%  2,400 orders in 1s, 2,400 orders/s" +
			"\r[############........]  60%  3,000 orders in 1.5s, 2,000 orders/s" +
			"\r[##################..]  90%  5,000 orders in 2.1s, 2,380 orders/s" +
			"\r[####################] 100%  6,200 orders in 2.5s, 2,480 orders/s" +
			"\r[####################] 100%  6,200 orders in 2.5s, 2,480 orders/s\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			var b strings.Builder
			p := newImportProgress(&b, 1000, tc.terminal, func() time.Time { return now })
			for _, c := range calls {
				now = now.Add(c.after)
				p.show(c.read, c.orders)
			}
			require.Equal(t, 2500*time.Millisecond, p.done())
			require.Equal(t, tc.want, b.String())
		})
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		took time.Duration
		want string
	}{
		{name: "instant", n: 3, took: 200 * time.Microsecond, want: "in 0s"},
		{name: "ms", n: 3, took: 12 * time.Millisecond, want: "in 12ms, 250 orders/s"},
		{name: "many", n: 1_000_000, took: 400 * time.Second, want: "in 6m40s, 2,500 orders/s"},
		{name: "a tenth past a second", n: 60_000, took: 89551 * time.Millisecond, want: "in 1m29.6s, 670 orders/s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, rate(tc.n, tc.took))
		})
	}
}

func TestBenchProgressLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		prev, cur bench.Progress
		want      string
	}{
		{name: "first second", cur: bench.Progress{Elapsed: 1002 * time.Millisecond, Approvals: 410},
			want: "cardflow bench:    1s  410 approvals, 409/s now, 0 failed"},
		{name: "later", prev: bench.Progress{Elapsed: 9 * time.Second, Approvals: 3690},
			cur:  bench.Progress{Elapsed: 10 * time.Second, Approvals: 5100, Failed: 2},
			want: "cardflow bench:   10s  5,100 approvals, 1,410/s now, 2 failed"},
		{name: "a tick at the very end", prev: bench.Progress{Elapsed: 20 * time.Second, Approvals: 9000},
			cur:  bench.Progress{Elapsed: 20 * time.Second, Approvals: 9000},
			want: "cardflow bench:   20s  9,000 approvals, 0/s now, 0 failed"},
		{name: "done, moments after a tick", prev: bench.Progress{Elapsed: 4 * time.Second, Approvals: 46},
			cur:  bench.Progress{Elapsed: 4033 * time.Millisecond, Approvals: 50, Done: true},
			want: "cardflow bench:    4s  50 approvals, 12/s on average, 0 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, benchProgressLine(tc.prev, tc.cur))
		})
	}
}
