package queue_test

import (
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
