package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server/console"
)

// The Count group checks console.InstanceCounter, which every flows.Store
// under test must implement as well: the dashboard's instances by state.
func countTests() []suiteTest {
	return []suiteTest{
		storeTest("instances by status", testCountInstances),
	}
}

func testCountInstances(t *testing.T, s flows.Store) {
	counter, ok := s.(console.InstanceCounter)
	require.True(t, ok, "%T must implement console.InstanceCounter as well", s)
	ctx := t.Context()
	got, err := counter.CountInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, got, "an empty store counts nothing")

	Seed(t, s, "i-1")
	Seed(t, s, "i-2")
	done := Seed(t, s, "i-3")
	next := done
	next.Status = flows.InstanceApproved
	next.UpdatedAt = At(1)
	MustApply(t, s, flows.Change{Instance: &next, ExpectVersion: done.Version})

	got, err = counter.CountInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, map[flows.InstanceStatus]int64{flows.InstanceRunning: 2, flows.InstanceApproved: 1}, got)
}
