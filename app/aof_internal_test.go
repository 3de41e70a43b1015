package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
	redisq "cardflow/storage/redis"
)

// fakeRedisQueue answers AppendOnly as a Redis in some configuration would.
type fakeRedisQueue struct {
	queue.Queue
	on  bool
	err error
}

func (f fakeRedisQueue) AppendOnly(context.Context) (bool, error) { return f.on, f.err }

func TestCheckAOF(t *testing.T) {
	t.Parallel()
	cannot := fmt.Errorf("%w: CONFIG GET appendonly: ERR unknown command 'config'", redisq.ErrCannotCheck)
	down := errors.New("redis: CONFIG GET appendonly: dial tcp 10.0.0.5:6379: connection refused")
	tests := []struct {
		name    string
		q       queue.Queue
		require bool
		wantErr string
		wantLog string // "" means no log line at all
	}{
		{name: "in-process queue", q: queue.NewMemory(queue.MemoryOptions{})},
		{name: "appendonly yes", q: fakeRedisQueue{on: true}},
		{name: "appendonly yes, required", q: fakeRedisQueue{on: true}, require: true},
		{name: "appendonly no warns", q: fakeRedisQueue{}, wantLog: "level=WARN msg=\"REDIS DOES NOT PERSIST THE QUEUE (appendonly no)"},
		{name: "appendonly no, required", q: fakeRedisQueue{}, require: true,
			wantErr: "queue: Redis runs with appendonly no, and queue.require_aof is set: set appendonly yes (appendfsync everysec) in Redis, or queue.require_aof false to start anyway"},
		{name: "CONFIG disabled warns", q: fakeRedisQueue{err: cannot}, wantLog: "level=WARN msg=\"could not check that Redis persists the queue: make sure it runs with appendonly yes"},
		{name: "CONFIG disabled, required, still only warns", q: fakeRedisQueue{err: cannot}, require: true,
			wantLog: "ERR unknown command 'config'"},
		{name: "unreachable warns", q: fakeRedisQueue{err: down}, wantLog: "Redis did not answer"},
		{name: "unreachable, required", q: fakeRedisQueue{err: down}, require: true,
			wantErr: "queue: queue.require_aof is set and Redis could not be asked whether it persists: redis: CONFIG GET appendonly: dial tcp 10.0.0.5:6379: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			err := checkAOF(t.Context(), tt.q, tt.require, slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.Empty(t, logs.String())
				return
			}
			require.NoError(t, err)
			if tt.wantLog == "" {
				require.Empty(t, logs.String())
				return
			}
			require.Contains(t, logs.String(), tt.wantLog)
		})
	}
}

func TestCheckSLAScale(t *testing.T) {
	t.Parallel()
	for _, ok := range []float64{0, 1, 60, 3600} {
		require.NoError(t, checkSLAScale(ok), ok)
	}
	for _, bad := range []float64{0.5, -60, math.Inf(1), math.Inf(-1), math.NaN()} {
		require.ErrorContains(t, checkSLAScale(bad), "app: SLA scale must be a finite number of at least 1", bad)
	}
}
