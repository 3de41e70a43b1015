package postgres

import (
	"testing"

	"cardflow/flows"
	"cardflow/storage/storetest"
)

// TestStore runs the conformance suite every flows.Store must pass, each
// test on a fresh schema.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) flows.Store { return openTestStore(t, Options{MaxConns: 4}) })
}
