package redis_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/storage/redis"
)

// twoInstances returns the limiters of two server instances over one
// Redis, with limits, under a key prefix of the test's own that is deleted
// after it.
func twoInstances(t *testing.T, limits map[string]bot.Limits) (a, b *redis.Limiter) {
	t.Helper()
	client := newTestClient(t)
	prefix := testPrefix()
	t.Cleanup(func() { deleteKeys(t, prefix) })
	return redis.NewLimiter(client, prefix, limits), redis.NewLimiter(client, prefix, limits)
}

func TestLimiterIsSharedByInstances(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, map[string]bot.Limits{"feishu": {App: bot.Rate{Count: 20, Per: time.Minute, Burst: 20},
		Reader: bot.Rate{Count: 5, Per: time.Minute, Burst: 5}}})
	ctx := t.Context()

	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			ok, wait, err := l.Allow(ctx, "feishu:ou_1")
			require.NoError(t, err)
			if ok {
				allowed.Add(1)
			} else {
				require.Positive(t, wait)
				require.LessOrEqual(t, wait, 12*time.Second+time.Second, "the next of 5/min comes within 12s")
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(5), allowed.Load(), "one reader's 5 per minute, across both instances")

	allowed.Store(0)
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ok, _, err := l.Allow(ctx, "feishu:ou_x"+string(rune('a'+i)))
		require.NoError(t, err)
		if ok {
			allowed.Add(1)
		}
	}
	require.Equal(t, int64(15), allowed.Load(), "the app's 20 per minute, 5 of them used above")

	ok, _, err := a.Allow(ctx, "sim:anyone")
	require.NoError(t, err)
	require.True(t, ok)
}

func TestLimiterReservationsAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, map[string]bot.Limits{"wecom": {App: bot.Rate{Count: 10, Per: time.Second, Burst: 1}}})
	ctx := t.Context()
	start := time.Now()
	var waits []time.Duration
	for i := range 3 {
		l := a
		if i == 1 {
			l = b
		}
		ok, wait, err := l.Reserve(ctx, "wecom:u1", 250*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok)
		waits = append(waits, wait)
	}
	// Redis's clock moves between the calls: each wait is a slot later
	// than the one before, less the time that passed.
	require.Zero(t, waits[0])
	bottest.RequireWait(t, 100*time.Millisecond, waits[1], start)
	bottest.RequireWait(t, 200*time.Millisecond, waits[2], start)
	ok, wait, err := b.Reserve(ctx, "wecom:u1", 150*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok, "the fourth slot is about 300ms away")
	bottest.RequireWait(t, 300*time.Millisecond, wait, start)
	ok, _, err = a.Allow(ctx, "wecom:u1")
	require.NoError(t, err)
	require.False(t, ok, "a refused reservation counted nothing, but the three before it did")
}

func TestLimiterLineAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t, map[string]bot.Limits{"wecom": {App: bot.Rate{Count: 10, Per: time.Second, Burst: 1}}})
	ctx := t.Context()
	const maxWait = 250 * time.Millisecond
	ok, wait, err := bot.Place(ctx, b, "wecom:u1", maxWait, false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Zero(t, wait)
	start := time.Now()
	for range 3 {
		ok, _, err := a.Reserve(ctx, "wecom:u1", maxWait)
		require.NoError(t, err)
		require.True(t, ok)
	}
	// Redis's clock moves between the calls: each place is 100ms after the
	// one before, less the time that passed.
	for i, l := range []*redis.Limiter{a, b, a} {
		ok, wait, err := bot.Place(ctx, l, "wecom:u1", maxWait, false)
		require.NoError(t, err)
		require.False(t, ok)
		bottest.RequireWait(t, time.Duration(300+100*i)*time.Millisecond, wait, start, "place %d", i)
	}
	ok, wait, err = bot.Place(ctx, b, "wecom:u1", maxWait, true)
	require.NoError(t, err)
	if time.Since(start) < 50*time.Millisecond { // else the slot may be within maxWait by now
		require.False(t, ok)
	}
	bottest.RequireWait(t, 300*time.Millisecond, wait, start, "back for its place: the next free slot")
	ok, wait, err = b.Reserve(ctx, "wecom:u1", 350*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	bottest.RequireWait(t, 300*time.Millisecond, wait, start, "the line counted nothing: the fourth slot was still free")
	_, wait, err = bot.Place(ctx, a, "wecom:u1", maxWait, false)
	require.NoError(t, err)
	bottest.RequireWait(t, 600*time.Millisecond, wait, start, "a newcomer queues behind the three places given")
}

func TestLimiterReaderLineDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	client := newTestClient(t)
	prefix := testPrefix()
	l := redis.NewLimiter(client, prefix, map[string]bot.Limits{"feishu": {
		App:    bot.Rate{Count: 10, Per: time.Second, Burst: 1},
		Reader: bot.Rate{Count: 2, Per: time.Second, Burst: 1},
	}})
	bottest.RequireReaderLine(t, l)
	deleteKeys(t, prefix)
}
