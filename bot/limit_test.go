package bot_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
)

func TestMemoryLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := bot.NewMemoryLimiter(map[string]bot.Limits{
		"feishu": {App: bot.Rate{Count: 50, Per: time.Second, Burst: 50}, Reader: bot.Rate{Count: 5, Per: time.Second, Burst: 1}},
	}, func() time.Time { return now })
	ctx := t.Context()

	ok, _, err := l.Allow(ctx, "feishu:ou_1")
	require.NoError(t, err)
	require.True(t, ok)
	ok, wait, err := l.Allow(ctx, "feishu:ou_1")
	require.NoError(t, err)
	require.False(t, ok, "5/s per reader without a burst: the next call waits 200ms")
	require.Equal(t, 200*time.Millisecond, wait)
	ok, _, _ = l.Allow(ctx, "feishu:ou_2")
	require.True(t, ok, "another reader has a limit of their own")
	now = now.Add(200 * time.Millisecond)
	ok, _, _ = l.Allow(ctx, "feishu:ou_1")
	require.True(t, ok)

	// The app's 50/s is shared by every reader.
	allowed := 0
	for i := range 100 {
		if ok, _, _ := l.Allow(ctx, "feishu:r"+string(rune('A'+i))); ok {
			allowed++
		}
	}
	require.Equal(t, 49, allowed, "a burst of 50, less the one still counted from 200ms ago (the other two have recovered)")
	ok, _, _ = l.Allow(ctx, "sim:anyone")
	require.True(t, ok, "a platform without limits is not limited")
}

func TestReserveGivesEachWaiterItsOwnSlot(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := bot.NewMemoryLimiter(map[string]bot.Limits{"wecom": {App: bot.Rate{Count: 10, Per: time.Second, Burst: 1}}},
		func() time.Time { return now })
	ctx := t.Context()
	var waits []time.Duration
	for range 3 {
		ok, wait, err := l.Reserve(ctx, "wecom:u1", 250*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok)
		waits = append(waits, wait)
	}
	require.Equal(t, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}, waits,
		"three callers at one moment get the next three slots, 100ms apart")
	ok, wait, err := l.Reserve(ctx, "wecom:u1", 250*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok, "the fourth slot is 300ms away: more than the caller waits")
	require.Equal(t, 300*time.Millisecond, wait)
	ok, wait, _ = l.Reserve(ctx, "wecom:u1", 300*time.Millisecond)
	require.True(t, ok, "the refusal counted nothing: the slot is still free")
	require.Equal(t, 300*time.Millisecond, wait)
}

func TestLineGivesEachPutOffCallItsPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	l := bot.NewMemoryLimiter(map[string]bot.Limits{"wecom": {App: bot.Rate{Count: 10, Per: time.Second, Burst: 1}}},
		func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	ctx := t.Context()
	const maxWait = 250 * time.Millisecond
	place := func(returning bool) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := bot.Place(ctx, l, "wecom:u1", maxWait, returning)
		require.NoError(t, err)
		return ok, wait
	}
	for range 3 {
		ok, wait := place(false)
		require.True(t, ok, "a free slot: go, however often asked")
		require.Zero(t, wait)
	}
	for range 3 {
		ok, _, err := l.Reserve(ctx, "wecom:u1", maxWait)
		require.NoError(t, err)
		require.True(t, ok)
	}
	var waits []time.Duration
	for range 3 {
		ok, wait := place(false)
		require.False(t, ok)
		waits = append(waits, wait)
	}
	require.Equal(t, []time.Duration{300 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}, waits,
		"three slots taken: the calls put off get the next places in line, 100ms apart")
	ok, wait := place(true)
	require.False(t, ok)
	require.Equal(t, 300*time.Millisecond, wait, "a call back for its place waits for the next free slot")
	_, wait = place(false)
	require.Equal(t, 600*time.Millisecond, wait, "and took no new place")
	ok, wait, _ = l.Reserve(ctx, "wecom:u1", 300*time.Millisecond)
	require.True(t, ok)
	require.Equal(t, 300*time.Millisecond, wait, "the line counted nothing: the fourth slot was still free")

	clock.Lock()
	now = now.Add(400 * time.Millisecond) // the first place in line is due
	clock.Unlock()
	ok, wait = place(true)
	require.True(t, ok, "back at its place, the call may go")
	require.Zero(t, wait)
	ok, _ = place(false)
	require.False(t, ok, "a newcomer still queues behind the places given")

	ok, wait, err := bot.Place(ctx, l, "sim:anyone", maxWait, false)
	require.NoError(t, err)
	require.True(t, ok, "a platform without limits")
	require.Zero(t, wait)
}

func TestALongReaderLineDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := bot.NewMemoryLimiter(map[string]bot.Limits{"feishu": {
		App:    bot.Rate{Count: 10, Per: time.Second, Burst: 1},
		Reader: bot.Rate{Count: 2, Per: time.Second, Burst: 1},
	}}, func() time.Time { return now })
	bottest.RequireReaderLine(t, l)
}

func TestTakeWaitsForAReservedSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := bot.NewMemoryLimiter(map[string]bot.Limits{"wecom": {App: bot.Rate{Count: 10, Per: time.Second, Burst: 1}}}, nil)
		start := time.Now()
		for range 3 {
			ok, _, err := bot.Take(t.Context(), l, "wecom:u1", bot.MaxLimitWait)
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.Equal(t, 200*time.Millisecond, time.Since(start), "the third call went out two slots later")
		ok, after, err := bot.Take(t.Context(), l, "wecom:u1", 50*time.Millisecond)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, 100*time.Millisecond, after)
	})
}
