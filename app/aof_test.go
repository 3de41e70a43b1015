package app_test

import (
	"bytes"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
	"cardflow/internal/testenv"
	"cardflow/queue"
)

// syncBuffer is a log destination written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunChecksRedisPersistence asks the test Redis, which CI runs with
// appendonly no: with queue.require_aof the server refuses to start, and
// without it the server starts with a warning. (A developer's Redis with
// appendonly yes starts silently either way.)
func TestRunChecksRedisPersistence(t *testing.T) {
	t.Parallel()
	redisURL := testenv.RedisURL(t)
	opts, err := goredis.ParseURL(redisURL)
	require.NoError(t, err)
	client := goredis.NewClient(opts)
	defer client.Close()
	setting, err := client.ConfigGet(t.Context(), "appendonly").Result()
	require.NoError(t, err)
	persistent := setting["appendonly"] == "yes"

	newConfig := func(require bool) *config.Config {
		cfg := config.Default()
		cfg.Flows.Dir = "../configs/flows"
		cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
		cfg.Queue.RedisURL = config.DSN(redisURL)
		cfg.Queue.KeyPrefix = "cardflow-test:" + queue.NewID()[:12] + ":"
		cfg.Queue.RequireAOF = require
		return cfg
	}

	logs := &syncBuffer{}
	r := start(t, newConfig(false), slog.New(slog.NewTextHandler(logs, nil)))
	r.shutdown(t)
	if persistent {
		require.NotContains(t, logs.String(), "appendonly")
	} else {
		require.Contains(t, logs.String(), `level=WARN msg="REDIS DOES NOT PERSIST THE QUEUE (appendonly no)`)
	}

	if persistent {
		start(t, newConfig(true), nil).shutdown(t)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = app.Run(t.Context(), newConfig(true), app.RunOptions{Listener: ln})
	require.EqualError(t, err, "queue: Redis runs with appendonly no, and queue.require_aof is set: "+
		"set appendonly yes (appendfsync everysec) in Redis, or queue.require_aof false to start anyway")
}
