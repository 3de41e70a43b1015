// Package testenv gives tests the real services they need. A test asks for
// PostgreSQL or Redis by name; when the DSN is unset it skips on a developer
// machine, but fails when CI or CARDFLOW_REQUIRE_SERVICES is set, so CI can
// never go green by skipping.
package testenv

import (
	"os"
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

func lookup(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if ServicesRequired() {
		t.Fatalf("%s is not set, and CI or %s requires the service: run tests through .ci/run or export it", name, RequireServicesVar)
	}
	t.Skipf("%s is not set: skipping a test that needs the real service (CI fails instead)", name)
	return ""
}
