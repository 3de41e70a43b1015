package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func timerTests() []suiteTest {
	return []suiteTest{
		storeTest("due and leased", testClaimDueAndLeased),
		storeTest("limit takes the earliest", testClaimLimit),
	}
}

func leaseTests() []suiteTest {
	return []suiteTest{
		storeTest("acquire, renew, expire", testLeaseLifecycle),
		storeTest("release", testLeaseRelease),
		storeTest("ping", func(t *testing.T, s flows.Store) { require.NoError(t, s.Ping(t.Context())) }),
	}
}

func testClaimDueAndLeased(t *testing.T, s flows.Store) {
	ctx := t.Context()
	tm := func(id string, due time.Duration) flows.Timer { return NewTimer("i-1", id, At(due)) }
	// Stored out of due order; tm-2 and tm-2b are due together.
	MustApply(t, s, flows.Change{NewTimers: []flows.Timer{
		tm("tm-3", 3*time.Minute), tm("tm-2b", 2*time.Minute), tm("tm-1", time.Minute), tm("tm-2", 2*time.Minute),
	}})
	const lease = 10 * time.Minute

	steps := []struct {
		name   string
		holder string
		now    time.Time
		want   []flows.Timer
	}{
		{name: "nothing due yet", holder: "a", now: At(59 * time.Second)},
		{
			name: "due at or before now, by due time then id", holder: "a", now: At(2 * time.Minute),
			want: []flows.Timer{tm("tm-1", time.Minute), tm("tm-2", 2*time.Minute), tm("tm-2b", 2*time.Minute)},
		},
		{name: "leased ones are skipped", holder: "b", now: At(3 * time.Minute), want: []flows.Timer{tm("tm-3", 3*time.Minute)}},
		{name: "still within both leases", holder: "c", now: At(2*time.Minute + lease - time.Second)},
		{
			name: "expired lease is claimable again", holder: "c", now: At(2*time.Minute + lease + time.Second),
			want: []flows.Timer{tm("tm-1", time.Minute), tm("tm-2", 2*time.Minute), tm("tm-2b", 2*time.Minute)},
		},
		{name: "c's new lease is respected", holder: "a", now: At(3*time.Minute + lease - time.Second)},
	}
	for _, step := range steps {
		got, err := s.ClaimTimers(ctx, step.now, step.holder, lease, 10)
		require.NoError(t, err, step.name)
		RequireTimers(t, step.want, got)
	}
}

func testClaimLimit(t *testing.T, s flows.Store) {
	ctx := t.Context()
	var all []flows.Timer
	for i := range 5 {
		all = append(all, NewTimer("i-1", fmt.Sprintf("tm-%d", i), At(time.Duration(i)*time.Second)))
	}
	MustApply(t, s, flows.Change{NewTimers: []flows.Timer{all[4], all[2], all[0], all[3], all[1]}})
	notDue := NewTimer("i-1", "tm-late", At(time.Hour))
	MustApply(t, s, flows.Change{NewTimers: []flows.Timer{notDue}})

	now := At(time.Minute)
	for i, want := range [][]flows.Timer{all[:2], all[2:4], all[4:], nil} {
		got, err := s.ClaimTimers(ctx, now, fmt.Sprintf("holder-%d", i), time.Minute, 2)
		require.NoError(t, err, "claim %d", i)
		RequireTimers(t, want, got)
	}
}

func testLeaseLifecycle(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const ttl = time.Minute
	steps := []struct {
		name   string
		holder string
		at     time.Duration
		want   bool
	}{
		{name: "free lease is taken", holder: "a", at: 0, want: true},
		{name: "refused to another holder", holder: "b", at: 30 * time.Second},
		{name: "renewed by its holder", holder: "a", at: 30 * time.Second, want: true},
		{name: "the renewal counts", holder: "b", at: 70 * time.Second},
		{name: "taken after expiry", holder: "b", at: 91 * time.Second, want: true},
		{name: "now refused to the old holder", holder: "a", at: 92 * time.Second},
	}
	for _, step := range steps {
		got, err := s.AcquireLease(ctx, "timer-loop", step.holder, At(step.at), ttl)
		require.NoError(t, err, step.name)
		require.Equal(t, step.want, got, step.name)
	}
	other, err := s.AcquireLease(ctx, "outbox-relay", "a", At(92*time.Second), ttl)
	require.NoError(t, err)
	require.True(t, other, "leases of different names are independent")
}

func testLeaseRelease(t *testing.T, s flows.Store) {
	ctx := t.Context()
	acquire := func(holder string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "relay", holder, BaseTime, time.Hour)
		require.NoError(t, err)
		return ok
	}
	require.NoError(t, s.ReleaseLease(ctx, "relay", "a"), "releasing a lease nobody holds is fine")
	require.True(t, acquire("a"))
	require.NoError(t, s.ReleaseLease(ctx, "relay", "b"), "releasing another's lease is a no-op")
	require.False(t, acquire("b"), "b's release must not free a's lease")
	require.NoError(t, s.ReleaseLease(ctx, "relay", "a"))
	require.True(t, acquire("b"), "released lease is free at once")
}
