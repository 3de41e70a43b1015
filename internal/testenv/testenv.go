// Package testenv gives tests the real services they need. A test asks for
// PostgreSQL, Redis or a browser by name; when it is missing the test skips
// on a developer machine, but fails when CI or CARDFLOW_REQUIRE_SERVICES is
// set, so CI can never go green by skipping.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Environment variables the tests read.
const (
	DatabaseURLVar     = "CARDFLOW_TEST_DATABASE_URL"
	RedisURLVar        = "CARDFLOW_TEST_REDIS_URL"
	RequireServicesVar = "CARDFLOW_REQUIRE_SERVICES"
)

// PostgresURL returns the test PostgreSQL DSN, or skips/fails the test when
// it is unset (see the package comment).
func PostgresURL(t testing.TB) string { return lookup(t, DatabaseURLVar) }

// RedisURL returns the test Redis URL, or skips/fails the test when it is
// unset (see the package comment).
func RedisURL(t testing.TB) string { return lookup(t, RedisURLVar) }

// ServicesRequired reports whether a missing service must fail the run.
func ServicesRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv(RequireServicesVar) != ""
}

// browsers are the Debian packages' browser commands the browser tests can
// drive, in order of preference: the full browser first, as people use it.
var browsers = []string{"chromium", "chromium-headless-shell"}

// Browser returns the path of a Chromium on PATH (chromium, else
// chromium-headless-shell), or skips/fails the test when there is none (see
// the package comment).
func Browser(t testing.TB) string {
	t.Helper()
	for _, name := range browsers {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	missing(t, "none of "+strings.Join(browsers, ", ")+" is on PATH", "install chromium")
	return ""
}

// Program returns the path of a program a test runs (redis-server, say);
// it fails in CI and skips elsewhere when the program is not on PATH.
func Program(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed", "install "+name)
	}
	return path
}

func lookup(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	missing(t, name+" is not set", "export it")
	return ""
}

// missing fails the test when services are required, else skips it; what
// says what is missing, fix what a developer can do besides .ci/run.
func missing(t testing.TB, what, fix string) {
	t.Helper()
	if ServicesRequired() {
		t.Fatalf("%s, and CI or %s requires it: run tests through .ci/run or %s", what, RequireServicesVar, fix)
	}
	t.Skipf("%s: skipping a test that needs it (CI fails instead)", what)
}
