package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target for serve and demo
// when GOGC is not set: the heap may grow to five times what is live
// between collections, where Go's default lets it double. A server's live
// heap is small (about 20 MB under cardflow bench) and each approval
// allocates over 200 KB that dies young (an allocation profile: 619 MB for
// 2,889 approvals), so at the default the collector ran several times a
// second and took about 17 % of the server's CPU. At 400,
// cardflow bench on PostgreSQL + Redis measured 6–29 % less server CPU per
// approval (six runs; 12 % more approvals a second on average) for a peak
// RSS of about 185 MB instead of 95; on the embedded store, bound by its
// single writer, only the CPU fell (README, Benchmarks). GOGC, and
// GOMEMLIMIT to bound the heap in a container, are honoured as Go
// documents them.
const defaultGCPercent = 400

// tuneGC sets the collector's target to defaultGCPercent unless GOGC is
// set. The start-up line says which target is in effect.
func tuneGC(lookupEnv func(string) (string, bool)) {
	if v, ok := lookupEnv("GOGC"); ok && v != "" {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
}
