package queue_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	opts := queue.ConsumeOptions{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}
	tests := []struct {
		name    string
		opts    queue.ConsumeOptions
		attempt int
		nominal time.Duration
	}{
		{name: "first retry waits about the base", opts: opts, attempt: 1, nominal: 100 * time.Millisecond},
		{name: "doubles per attempt", opts: opts, attempt: 3, nominal: 400 * time.Millisecond},
		{name: "capped at the maximum", opts: opts, attempt: 5, nominal: time.Second},
		{name: "huge attempt stays capped", opts: opts, attempt: 1000, nominal: time.Second},
		{name: "cap near overflow does not wrap", opts: queue.ConsumeOptions{BackoffBase: time.Hour, BackoffMax: 1<<63 - 1}, attempt: 80, nominal: 1<<63 - 1},
		{name: "defaults apply to zero options", opts: queue.ConsumeOptions{}, attempt: 1, nominal: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seen := map[time.Duration]bool{}
			for range 200 {
				d := queue.RetryDelay(tt.opts, tt.attempt)
				require.GreaterOrEqual(t, d, tt.nominal/2)
				require.LessOrEqual(t, d, tt.nominal)
				seen[d] = true
			}
			require.Greater(t, len(seen), 1, "delays must be jittered")
		})
	}
}

func TestNewIDIsRandom(t *testing.T) {
	t.Parallel()
	a, b := queue.NewID(), queue.NewID()
	require.Len(t, a, 26)
	require.NotEqual(t, a, b)
}

func TestRateLimitDelay(t *testing.T) {
	t.Parallel()
	opts := queue.ConsumeOptions{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}
	tests := []struct {
		name      string
		after     time.Duration
		min, max  time.Duration
		saturated bool // no room left for jitter
	}{
		{name: "at least the wait asked for, a tenth more at most", after: 500 * time.Millisecond, min: 500 * time.Millisecond, max: 550 * time.Millisecond},
		{name: "never more than 100 ms added", after: 2 * time.Second, min: 2 * time.Second, max: 2100 * time.Millisecond},
		{name: "longer than the backoff cap is kept", after: time.Hour, min: time.Hour, max: time.Hour + 100*time.Millisecond},
		{name: "unknown wait takes the first backoff delay", after: 0, min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "negative wait is unknown too", after: -time.Second, min: 50 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "near overflow saturates", after: 1<<63 - 2, min: 1<<63 - 2, max: 1<<63 - 1, saturated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seen := map[time.Duration]bool{}
			for range 200 {
				d := queue.RateLimitDelay(opts, tt.after)
				require.GreaterOrEqual(t, d, tt.min)
				require.LessOrEqual(t, d, tt.max)
				seen[d] = true
			}
			if !tt.saturated {
				require.Greater(t, len(seen), 1, "delays must be jittered")
			}
		})
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	cause := errors.New("feishu: code 99991400")
	tests := []struct {
		name          string
		err           error
		wantLimited   bool
		wantAfter     time.Duration
		wantPermanent bool
	}{
		{name: "marked", err: queue.RateLimited(cause, 3*time.Second), wantLimited: true, wantAfter: 3 * time.Second},
		{name: "wrapped", err: fmt.Errorf("send card: %w", queue.RateLimited(cause, time.Second)), wantLimited: true, wantAfter: time.Second},
		{name: "typed error built directly", err: &queue.RateLimitError{After: time.Minute}, wantLimited: true, wantAfter: time.Minute},
		{name: "plain error", err: cause},
		{name: "nil stays nil", err: queue.RateLimited(nil, time.Second)},
		{name: "permanent outside", err: queue.Permanent(queue.RateLimited(cause, time.Second)), wantLimited: true, wantAfter: time.Second, wantPermanent: true},
		{name: "permanent inside", err: queue.RateLimited(queue.Permanent(cause), time.Second), wantLimited: true, wantAfter: time.Second, wantPermanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			after, limited := queue.RetryAfter(tt.err)
			require.Equal(t, tt.wantLimited, limited)
			require.Equal(t, tt.wantAfter, after)
			require.Equal(t, tt.wantPermanent, queue.IsPermanent(tt.err), "Permanent wins wherever it is in the chain")
		})
	}
	require.NoError(t, queue.RateLimited(nil, time.Second))
	require.Equal(t, cause.Error(), queue.RateLimited(cause, time.Second).Error(), "the text is the cause's")
	require.ErrorIs(t, queue.RateLimited(cause, time.Second), cause)
	require.Equal(t, "rate limited", (&queue.RateLimitError{}).Error())
}
