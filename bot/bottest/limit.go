package bottest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

// RequireReaderLine checks a Liner with Feishu limits of 10 calls a second
// for the app and 2 a second per reader, each without a burst, and nothing
// counted yet: cards to one reader, put off by their own limit, take
// places 500 ms apart in their line, not in the app's, so another reader's
// card may still go. The limiter's clock may move between the calls (see
// RequireWait).
func RequireReaderLine(t *testing.T, l bot.Limiter) {
	t.Helper()
	ctx := t.Context()
	const maxWait = 250 * time.Millisecond
	start := time.Now()
	ok, _, err := bot.Take(ctx, l, "feishu:u1", maxWait)
	require.NoError(t, err)
	require.True(t, ok)
	for i := range 3 {
		ok, wait, err := bot.Place(ctx, l, "feishu:u1", maxWait, false)
		require.NoError(t, err)
		require.False(t, ok)
		RequireWait(t, time.Duration(500*(i+1))*time.Millisecond, wait, start, "place %d in u1's line", i)
	}
	ok, wait, err := bot.Place(ctx, l, "feishu:u2", maxWait, false)
	require.NoError(t, err)
	require.True(t, ok, "u2's card waits for the app's next slot only, not behind u1's line (told %v)", wait)
}

// RequireWait checks a wait a limiter reported, whose clock may have moved
// since start, when the wait was want: it is at most want (and a few
// milliseconds for clocks read at different moments) and at least want
// less the time since start.
func RequireWait(t *testing.T, want, got time.Duration, start time.Time, msgAndArgs ...any) {
	t.Helper()
	const skew = 5 * time.Millisecond
	require.LessOrEqual(t, got, want+skew, msgAndArgs...)
	require.GreaterOrEqual(t, got, want-time.Since(start)-skew, msgAndArgs...)
}
