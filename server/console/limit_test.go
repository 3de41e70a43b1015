package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	l := newLimiter(func() time.Time { return now })
	tests := []struct {
		name     string
		failures int
		want     time.Duration
	}{
		{name: "free attempts", failures: freeAttempts - 1, want: 0},
		{name: "the fifth failure: a second", failures: 1, want: time.Second},
		{name: "then twice as long", failures: 1, want: 2 * time.Second},
		{name: "and again", failures: 1, want: 4 * time.Second},
		{name: "capped", failures: 30, want: maxWait},
	}
	for _, tt := range tests {
		for range tt.failures {
			l.fail("user:ops")
		}
		require.Equal(t, tt.want, l.wait("user:ops", "ip:1"), tt.name)
	}
	now = now.Add(maxWait)
	require.Zero(t, l.wait("user:ops"), "after the wait, one more try")
	l.clear("user:ops")
	l.fail("user:ops")
	require.Zero(t, l.wait("user:ops"), "a success starts the count again")
	now = now.Add(forgetAfter + time.Second)
	l.fail("user:other")
	require.NotContains(t, l.m, "user:ops", "forgotten an hour after its last failure")
}

func TestLimiterBoundsItsMemory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	l := newLimiter(func() time.Time { return now })
	for range freeAttempts {
		l.fail("ip:1")
	}
	for i := range maxKeys + 10 {
		l.fail(fmt.Sprintf("user:guess-%d", i))
	}
	require.LessOrEqual(t, len(l.m), maxKeys+1)
	require.Positive(t, l.wait("ip:1"), "the guesser's address is still throttled")
}
