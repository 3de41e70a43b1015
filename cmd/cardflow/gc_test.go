package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	env := map[string]string{"GOGC": "50"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tuneGC(lookup)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the collector's target became %d; it must be left as the runtime read it", got)
	}

	delete(env, "GOGC")
	tuneGC(lookup)
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC, the collector's target is %d, want %d", got, defaultGCPercent)
	}
}
